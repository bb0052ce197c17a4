import { type ChildProcess, fork } from "node:child_process";

/** One request the receiver got. `at` is epoch milliseconds with sub-millisecond precision. */
export interface Arrival {
  path: string;
  /** The `webhook-id` header: the event id. */
  id: string;
  at: number;
  /** What the receiver answered (no answer at all on a hanging path). */
  status: number;
}

export type ReceiverCommand =
  | { op: "count" }
  | { op: "take" }
  | { op: "hang"; prefix: string; on: boolean }
  | { op: "reset" };

/**
 * The loopback receiver, in a process of its own. Answers 200 at once, except: paths under a
 * prefix set to hang never answer, and `/fail/<n>/…` answers 500 to the first n attempts of each
 * webhook-id. It records every request's path, webhook-id and arrival time, except under
 * `/baseline`, where the raw-POST baselines go.
 */
export class BenchReceiver {
  readonly url: string;
  #child: ChildProcess;
  #seq = 0;
  #pending = new Map<number, (answer: unknown) => void>();

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
    child.on("message", (message: { seq: number; answer: unknown }) => {
      this.#pending.get(message.seq)?.(message.answer);
      this.#pending.delete(message.seq);
    });
  }

  static async start(): Promise<BenchReceiver> {
    const child = fork(new URL("./receiver-server.ts", import.meta.url).pathname, {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    process.on("exit", () => child.kill("SIGKILL"));
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (message: { answer: number }) => resolve(message.answer));
      child.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
    });
    return new BenchReceiver(child, port);
  }

  #ask<T>(command: ReceiverCommand): Promise<T> {
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      this.#pending.set(seq, resolve as (answer: unknown) => void);
      this.#child.send({ ...command, seq });
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Requests received since the last reset. */
  count(): Promise<number> {
    return this.#ask({ op: "count" });
  }

  /** Every request recorded since the last take, and forgets them. */
  take(): Promise<Arrival[]> {
    return this.#ask({ op: "take" });
  }

  hang(prefix: string, on: boolean): Promise<void> {
    return this.#ask({ op: "hang", prefix, on });
  }

  reset(): Promise<void> {
    return this.#ask({ op: "reset" });
  }

  /** Resolves once `count` requests have arrived since the last reset; false after `timeoutMs`. */
  async waitForCount(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.count()) < count) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  close(): void {
    this.#child.kill();
  }
}
