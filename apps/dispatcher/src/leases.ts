import type { Logger } from "@herald/config";
import { type AttemptJobRecord, attemptLease, attemptQueue } from "@herald/db";
import type { PgBoss } from "pg-boss";

/** One claim of a job: pg-boss counts every claim, so a job re-run after a lapse is a new claim. */
export function claimOf(job: AttemptJobRecord): string {
  return `${job.id}:${job.retryCount}`;
}

/**
 * The attempt jobs this process has taken and not yet recorded. pg-boss re-runs a job whose
 * heartbeat lapses (see `attemptLease`), so every held job is touched while its attempt runs or
 * waits to be written, and a job dropped without being completed comes back after the lease.
 */
export class Leases {
  readonly #boss: PgBoss;
  readonly #log: Logger;
  readonly #held = new Map<string, { job: AttemptJobRecord; since: number }>();
  readonly #timer: NodeJS.Timeout;
  #renewing = false;

  constructor(boss: PgBoss, log: Logger) {
    this.#boss = boss;
    this.#log = log;
    this.#timer = setInterval(() => void this.#renew(), attemptLease.renewEveryMs);
    this.#timer.unref();
  }

  hold(job: AttemptJobRecord): void {
    this.#held.set(claimOf(job), { job, since: Date.now() });
  }

  holds(job: AttemptJobRecord): boolean {
    return this.#held.has(claimOf(job));
  }

  /** How many jobs are held: attempts running and attempts waiting to be recorded. */
  get count(): number {
    return this.#held.size;
  }

  held(): AttemptJobRecord[] {
    return [...this.#held.values()].map((h) => h.job);
  }

  /** Forgets jobs that were completed, or that are to come back when their leases lapse. */
  release(jobs: readonly AttemptJobRecord[]): void {
    for (const job of jobs) this.#held.delete(claimOf(job));
  }

  /** Puts jobs back in the queue now, runnable by any dispatcher, unless another claim has them. */
  async handBack(jobs: readonly AttemptJobRecord[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#boss.fail(
      attemptQueue,
      jobs.map((job) => ({ id: job.id, retryCount: job.retryCount })),
      null,
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    const now = Date.now();
    const due = [...this.#held.values()]
      .filter((h) => now - h.since >= attemptLease.renewEveryMs)
      .map((h) => h.job);
    if (due.length === 0 || this.#renewing) return;
    this.#renewing = true;
    try {
      await this.#boss.touch(
        attemptQueue,
        due.map((job) => ({ id: job.id, retryCount: job.retryCount })),
      );
    } catch (error) {
      this.#log.warn({ err: error, attempts: due.length }, "renewing attempt leases failed");
    } finally {
      this.#renewing = false;
    }
  }
}
