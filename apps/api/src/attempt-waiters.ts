import { attemptRecordedChannel } from "@herald/db";
import pg from "pg";

/** How many `/test` calls one API process keeps waiting at once; beyond, they answer 202 at once. */
export const maxWaiters = 1000;
// Without the LISTEN connection (Postgres restarting), waiters look for their attempt this often.
const fallbackPollMs = 500;

/**
 * Lets requests wait for a delivery's attempt to be recorded without polling: the recording
 * transaction NOTIFYs `herald_attempt_recorded` with the delivery id (test and manual attempts),
 * and one LISTEN connection per process wakes the requests waiting for that id. Each waiter still
 * reads the database itself once woken (and once before waiting), so a missed NOTIFY costs at most
 * its timeout, never a wrong answer.
 */
export class AttemptWaiters {
  readonly #pool: pg.Pool;
  readonly #max: number;
  readonly #waiting = new Map<string, Set<() => void>>();
  #count = 0;
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;

  constructor(pool: pg.Pool, max = maxWaiters) {
    this.#pool = pool;
    this.#max = max;
  }

  /**
   * Calls `check` until it answers something, waking on each NOTIFY for `deliveryId`, for up to
   * `timeoutMs`. Answers undefined when time is up, or at once when `max` calls already wait.
   */
  async waitFor<T>(
    deliveryId: string,
    timeoutMs: number,
    check: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    if (this.#count >= this.#max) return undefined;
    this.#count++;
    let wake: () => void = () => {};
    let woken = Promise.withResolvers<void>();
    wake = () => woken.resolve();
    const set = this.#waiting.get(deliveryId) ?? new Set();
    set.add(wake);
    this.#waiting.set(deliveryId, set);
    const deadline = Date.now() + timeoutMs;
    try {
      await this.#listen().catch(() => {});
      for (;;) {
        const found = await check();
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        const wait = this.#client ? left : Math.min(left, fallbackPollMs);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          woken.promise,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, wait))),
        ]);
        clearTimeout(timer);
        woken = Promise.withResolvers<void>();
      }
    } finally {
      this.#count--;
      set.delete(wake);
      if (set.size === 0 && this.#waiting.get(deliveryId) === set) this.#waiting.delete(deliveryId);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.end().catch(() => {});
    this.#client = undefined;
  }

  /** Connects the LISTEN client if it is not connected; a failure leaves waiters polling slowly. */
  #listen(): Promise<void> {
    if (this.#client || this.#closed) return Promise.resolve();
    this.#connecting ??= (async () => {
      const client = new pg.Client({ ...this.#pool.options, application_name: "herald-api-listen" });
      const lost = () => {
        if (this.#client === client) this.#client = undefined;
        client.end().catch(() => {});
      };
      client.on("error", lost);
      client.on("end", lost);
      client.on("notification", (message) => {
        for (const wake of this.#waiting.get(message.payload ?? "") ?? []) wake();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${attemptRecordedChannel}`);
        if (this.#closed) await client.end();
        else this.#client = client;
      } catch (error) {
        lost();
        throw error;
      }
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }
}
