import pg from "pg";
import type { PgBoss } from "pg-boss";
import type { Db } from "./connect.ts";
import {
  type EmitBatch,
  type EmitResult,
  type PreparedBatch,
  prepareEmit,
  writeEmits,
} from "./queries/events.ts";

interface Waiting {
  batch: PreparedBatch;
  resolve: (results: EmitResult[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for emits. An emit's cost is its transaction (BEGIN, statements, COMMIT and its
 * fsync), not its rows: a 100-event batch stores events 10 × faster than single emits do. So
 * concurrent emits, from any merchants, share transactions: whatever arrived while the previous
 * write was in flight goes into the next one. Alone, an emit is written at once, as before.
 *
 * Each caller is answered only after its own rows have committed, with its own results. What can
 * fail for one caller alone is settled before it gets here (validation, an unknown merchant) or
 * inside the shared write without failing it (an idempotency key taken, a conflict). If Postgres
 * refuses a shared write anyway, each of its batches is written again on its own, with the same
 * event ids: the failure reaches only the callers whose own write fails, and nothing is stored
 * twice. A write that fails because Postgres cannot be reached fails every caller at once (503).
 */
export class GroupCommit {
  readonly #db: Db;
  readonly #boss: PgBoss;
  readonly #maxInFlight: number;
  readonly #maxEvents: number;
  #waiting: Waiting[] = [];
  #inFlight = 0;

  /**
   * `maxInFlight` writes run at once (so the API prepares the next while Postgres commits one);
   * a write takes at most `maxEvents` events, one batch at least, whatever its size.
   */
  constructor(db: Db, boss: PgBoss, options: { maxInFlight?: number; maxEvents?: number } = {}) {
    this.#db = db;
    this.#boss = boss;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#maxEvents = options.maxEvents ?? 1000;
  }

  /** Stores one merchant's events (a single emit is a batch of one), answered once committed. */
  emit(batch: EmitBatch): Promise<EmitResult[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ batch: prepareEmit(batch), resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      let events = 0;
      let taken = 0;
      while (taken < this.#waiting.length) {
        events += this.#waiting[taken]!.batch.events.length;
        if (taken > 0 && events > this.#maxEvents) break;
        taken++;
      }
      const group = this.#waiting.splice(0, taken);
      this.#inFlight++;
      void this.#write(group).finally(() => {
        this.#inFlight--;
        this.#next();
      });
    }
  }

  async #write(group: Waiting[]): Promise<void> {
    try {
      const results = await writeEmits(
        this.#db,
        this.#boss,
        group.map((w) => w.batch),
      );
      for (const [i, w] of group.entries()) w.resolve(results[i]!);
    } catch (error) {
      if (group.length === 1 || !mayBeOneRequests(error)) {
        for (const w of group) w.reject(error);
        return;
      }
      await Promise.all(
        group.map((w) =>
          writeEmits(this.#db, this.#boss, [w.batch]).then(([results]) => w.resolve(results!), w.reject),
        ),
      );
    }
  }
}

/**
 * Whether a failed write may be one request's fault: an error Postgres raised about what was
 * written (bad data, a constraint, a trigger, a deadlock). Failing to reach Postgres (refused,
 * dropped, pool or statement timeouts, server shutting down) is everyone's: writing each request
 * again would only make each caller wait a second timeout before its 503.
 */
function mayBeOneRequests(error: unknown): boolean {
  return error instanceof pg.DatabaseError && !/^(08|53|57|58)/.test(error.code ?? "");
}
