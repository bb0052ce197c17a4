// Retries further out than this are found by polling; timers are kept for the near ones only.
const timerHorizonMs = 60_000;

/**
 * How the idle dispatcher waits: until the poll interval passes, a NOTIFY says a job became
 * runnable, or a retry this process scheduled falls due, whichever is first. A wake-up that comes
 * while the loop is busy is kept, so the next wait returns at once.
 */
export class Wakeup {
  #resolve: (() => void) | undefined;
  #pending = false;
  #timers = new Map<number, NodeJS.Timeout>();

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.#resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    if (resolve) resolve();
    else this.#pending = true;
  }

  /** Wakes the loop when `at` comes, for retries this process just scheduled. */
  at(at: Date): void {
    const delay = at.getTime() - Date.now();
    const slot = Math.ceil(at.getTime() / 5) * 5;
    if (delay > timerHorizonMs || this.#timers.has(slot)) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(slot);
        this.wake();
      },
      Math.max(0, slot - Date.now()) + 1,
    );
    timer.unref();
    this.#timers.set(slot, timer);
  }
}
