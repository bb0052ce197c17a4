import { CompiledQuery, type Kysely } from "kysely";
import type pg from "pg";
import { type Db as BossDb, type Job, type JobInsert, PgBoss } from "pg-boss";
import { createPool } from "./connect.ts";
import type { AttemptTrigger } from "./schema.ts";

/**
 * The attempt queue, on pg-boss. One job is one attempt of one delivery, runnable from its
 * `startAfter`. Jobs are grouped by endpoint so that pg-boss limits, across every dispatcher, how
 * many attempts to one endpoint are in flight at once.
 */
export const attemptQueue = "attempts";

export interface AttemptJob {
  delivery_id: string;
  trigger: AttemptTrigger;
  /** When this attempt was due, as its schedule says: recorded on the attempt row. */
  scheduled_at: string;
}

export type AttemptJobRecord = Job<AttemptJob>;

// Longer than any schedule (custom policies are capped at 7 days): pg-boss deletes jobs that wait
// longer than this, and a deleted job would be a lost attempt.
const retentionSeconds = 30 * 24 * 3600;

/**
 * How a dead dispatcher's attempts come back. A dispatcher holds each job it fetched under a lease
 * (a pg-boss heartbeat) that it renews every `renewEveryMs` until the result is recorded; a job not
 * renewed for `leaseSeconds` (10, pg-boss's smallest heartbeat) is failed back into the queue by
 * whichever dispatcher supervises next, and pg-boss's retry (no delay) makes it runnable at once.
 * So a SIGKILLed dispatcher's attempts are re-run about `leaseSeconds + superviseSeconds` later, by
 * any dispatcher, with no restart needed.
 */
export const attemptLease = { leaseSeconds: 10, renewEveryMs: 3000, superviseSeconds: 2 };

export async function startQueue(
  url: string,
  options: { supervise?: boolean; max?: number } = {},
): Promise<PgBoss> {
  // pg-boss runs on a pool of ours: its large statements are on the hot path, prepared and planned
  // once per connection.
  const pool = createPool(url, {
    max: options.max ?? 10,
    applicationName: "herald-queue",
    preparedStatements: true,
  });
  const boss = new PgBoss({
    db: { executeSql: (text, values) => pool.query(text, values) },
    supervise: options.supervise ?? true,
    schedule: options.supervise ?? true,
    // Lapsed leases are found by the monitor pass, which runs at the slower of these two intervals.
    superviseIntervalSeconds: attemptLease.superviseSeconds,
    monitorIntervalSeconds: attemptLease.superviseSeconds,
    maintenanceIntervalSeconds: 60,
    registerInstance: false,
    openTelemetry: { enabled: false },
  });
  boss.on("error", () => {});
  boss.on("stopped", () => void pool.end().catch(() => {}));
  await boss.start();
  const queue = {
    // Dispatchers are woken by `announceAttempts`, after commit, not by a NOTIFY inside each
    // emit's transaction: that would queue every committing transaction on one lock.
    notify: false,
    retentionSeconds,
    // The dispatcher itself reschedules failed attempts; pg-boss retries only attempts whose
    // dispatcher vanished, which is why the limit is high and the delay nil.
    retryLimit: 1000,
    retryDelay: 0,
    heartbeatSeconds: attemptLease.leaseSeconds,
    expireInSeconds: 60,
    deleteAfterSeconds: 3600,
  };
  if (await boss.getQueue(attemptQueue)) await boss.updateQueue(attemptQueue, queue);
  // A table of its own keeps the attempt queue's indexes small and free of other queues' churn.
  else await boss.createQueue(attemptQueue, { ...queue, partition: true });
  return boss;
}

// Someone is waiting on a test send or a manual retry, so they go first; a bulk recovery goes last,
// so that re-sending a backlog never delays fresh deliveries to the same endpoint.
export const attemptPriority = { test: 2, manual: 1, scheduled: 0, recovery: -1 };

/** The job of one attempt of `deliveryId` to `endpoint`, due `at`. */
export function attemptJob(
  deliveryId: string,
  endpoint: { id: string; timeout_ms: number },
  trigger: AttemptTrigger,
  at: Date,
  priority: number = attemptPriority[trigger],
): JobInsert<AttemptJob> {
  return {
    data: { delivery_id: deliveryId, trigger, scheduled_at: at.toISOString() },
    startAfter: at,
    priority,
    group: { id: endpoint.id },
    // A ceiling behind the lease: a job held this long is re-run even if its lease is still renewed.
    expireInSeconds: Math.ceil(endpoint.timeout_ms / 1000) + 30,
  };
}

/** Lets pg-boss run its statements inside a Kysely transaction, so jobs commit with our rows. */
// biome-ignore lint/suspicious/noExplicitAny: any database will do
export function bossExecutor(db: Kysely<any>): BossDb {
  return {
    executeSql: async (text, values) => {
      const result = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: result.rows as unknown[] as never[] };
    },
  };
}

/** The channel dispatchers LISTEN on to hear that attempts became runnable now. */
export const attemptsChannel = "herald_attempts";

/**
 * Wakes every dispatcher because attempts became runnable now. Call it after the transaction that
 * inserted the jobs has committed. Calls coalesce: however many arrive while one NOTIFY is on its
 * way, one more follows it, so a busy API sends about one per round trip, not one per event.
 */
export function attemptAnnouncer(pool: pg.Pool): () => void {
  let sending = false;
  let again = false;
  const send = async () => {
    sending = true;
    do {
      again = false;
      // A missed wake-up only costs a poll interval.
      await pool.query(`SELECT pg_notify('${attemptsChannel}', '')`).catch(() => {});
    } while (again);
    sending = false;
  };
  return () => {
    if (sending) again = true;
    else void send();
  };
}
