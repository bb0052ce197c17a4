import { CompiledQuery, type Kysely, type RawBuilder, sql } from "kysely";
import type pg from "pg";
import { type Db as BossDb, type Job, type JobInsert, PgBoss } from "pg-boss";
import { createPool, type Db } from "./connect.ts";
import { type Paced, paceJobs, pausedEndpoints } from "./pacing.ts";
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

export type AttemptJobRecord = Job<AttemptJob> & { priority?: number };

// Longer than any schedule (custom policies are capped at 7 days): pg-boss deletes jobs that wait
// longer than this, and a deleted job would be a lost attempt.
const retentionSeconds = 30 * 24 * 3600;

/**
 * How a dead dispatcher's attempts come back. A dispatcher holds each job it fetched under a lease
 * that it renews (pg-boss `touch`, which refreshes the job's heartbeat) every `renewEveryMs` until
 * the result is recorded. A job not renewed for `lapseMs` belongs to a dispatcher that is gone (or
 * stalled): every running dispatcher sweeps for those each `renewEveryMs` (see
 * `reclaimLapsedAttempts`) and fails them back into the queue, where pg-boss's retry (no delay)
 * makes them runnable at once, freeing their endpoints' in-flight slots. So a SIGKILLed
 * dispatcher's attempts are re-run about `lapseMs` later, by any dispatcher, with no restart needed.
 * pg-boss's own heartbeat (`leaseSeconds`, its smallest: 10) stays behind it as a backstop.
 */
export const attemptLease = { leaseSeconds: 10, renewEveryMs: 1000, lapseMs: 5000, superviseSeconds: 2 };

/**
 * Starts pg-boss on `options.pool` (a hot-path pool: see `PoolOptions.preparedStatements`), or on a
 * pool of its own that it ends when it stops.
 */
export async function startQueue(
  url: string,
  options: { supervise?: boolean; max?: number; pool?: pg.Pool } = {},
): Promise<PgBoss> {
  // pg-boss's large statements are on the hot path: prepared and planned once per connection.
  const pool =
    options.pool ??
    createPool(url, { max: options.max ?? 10, applicationName: "herald-queue", preparedStatements: true });
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
  if (!options.pool) boss.on("stopped", () => void pool.end().catch(() => {}));
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
    // Herald removes the jobs it settles at once (`composableSettle`); what pg-boss finishes itself
    // (a job failed for good) its maintenance (each minute) deletes a minute later: the attempts are
    // on record in Herald's own tables, and an hour of finished jobs (3.6 million rows at 1,000
    // events/s) would only make the table's indexes and every vacuum of it larger.
    deleteAfterSeconds: 60,
  };
  if (await boss.getQueue(attemptQueue)) await boss.updateQueue(attemptQueue, queue);
  // A table of its own keeps the attempt queue's indexes small and free of other queues' churn.
  else await boss.createQueue(attemptQueue, { ...queue, partition: true });
  await tuneQueueTable(pool);
  return boss;
}

/**
 * Settings of the attempt queue's own table, made once (later starts only read):
 *
 * - It churns: every job is written twice (queued, taken) and removed, each leaving a dead row and
 *   dead index entries, and pg-boss's fetch walks those until a vacuum removes them (a fetch went
 *   from 1 ms to 10 ms over 90 s at 500–1,000 events/s with none). By default autovacuum waits for
 *   a fifth of the table to be dead: vacuum it after a fixed number of dead rows instead, without
 *   pauses. How soon autovacuum looks is the server's `autovacuum_naptime` (README, "Running in
 *   production").
 * - `fetchIndex`: the queued jobs of each endpoint in due order, which `groupwiseClaim` reads one
 *   endpoint at a time. Built without blocking the queue's writes.
 */
async function tuneQueueTable(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{
    table: string;
    options: string[] | null;
    indexed: boolean;
    building: boolean;
  }>(
    `SELECT q.table_name AS table, c.reloptions AS options,
            EXISTS (SELECT 1 FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                    WHERE i.indrelid = c.oid AND x.relname = $2 AND i.indisvalid) AS indexed,
            EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.relid = c.oid) AS building
     FROM pgboss.queue q JOIN pg_class c ON c.oid = ('pgboss.' || quote_ident(q.table_name))::regclass
     WHERE q.name = $1`,
    [attemptQueue, fetchIndex],
  );
  const queueTable = rows[0];
  if (!queueTable) return;
  const table = `pgboss."${queueTable.table.replaceAll('"', '""')}"`;
  if (!queueTable.options?.some((o) => o.startsWith("autovacuum_vacuum_threshold="))) {
    await pool.query(
      `ALTER TABLE ${table} SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
         autovacuum_vacuum_cost_delay = 0)`,
    );
  }
  // A build another process has under way is left to it; one that a start left half-built when it
  // died is made again.
  if (!queueTable.indexed && !queueTable.building) {
    await pool.query(`DROP INDEX CONCURRENTLY IF EXISTS pgboss.${fetchIndex}`).catch(() => {});
    await pool
      .query(
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${fetchIndex} ON ${table} (name, group_id, priority DESC, start_after)
         WHERE state < 'active' AND NOT blocked`,
      )
      .catch(() => {});
  }
}

// Until it exists, fetches are correct but read more (see `groupwiseClaim`).
const fetchIndex = "herald_attempts_by_endpoint";

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
      return { rows: result.rows };
    },
  };
}

/** The channel dispatchers LISTEN on to hear that attempts became runnable now. */
export const attemptsChannel = "herald_attempts";

/**
 * Wakes every dispatcher because attempts became runnable now. Call it after the transaction that
 * inserted the jobs has committed. Calls coalesce: however many arrive while one NOTIFY is on its
 * way or within `announceEveryMs` of it, one more follows it then. A busy API sends about one per
 * interval, not one per event; a dispatcher gathers that long between fetches anyway.
 */
export function attemptAnnouncer(pool: pg.Pool): () => void {
  let sending = false;
  let again = false;
  const send = async () => {
    sending = true;
    do {
      again = false;
      const sentAt = performance.now();
      // A missed wake-up only costs a poll interval.
      await pool.query(`SELECT pg_notify('${attemptsChannel}', '')`).catch(() => {});
      const early = sentAt + announceEveryMs - performance.now();
      if (again && early > 0) await new Promise((resolve) => setTimeout(resolve, early));
    } while (again);
    sending = false;
  };
  return () => {
    if (sending) again = true;
    else void send();
  };
}

const announceEveryMs = 5;

// Any fixed numbers: the locks below are taken by every dispatcher on the database.
export const fetchLock = 7_031_978_043;
const reconcileLock = 7_031_978_044;
const reclaimLock = 7_031_978_045;

/**
 * Fails back into the queue the attempt jobs whose lease lapsed (not renewed for
 * `attemptLease.lapseMs`): their dispatcher died. Fenced on the claim that was read, so a job taken
 * again meanwhile is left alone. One dispatcher sweeps at a time. Answers how many came back.
 */
export function reclaimLapsedAttempts(db: Db, boss: PgBoss): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows: locked } = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_xact_lock(${reclaimLock}) AS locked`.execute(trx);
    if (!locked[0]?.locked) return 0;
    const { rows } = await sql<{ id: string; retry_count: number }>`
      SELECT id, retry_count FROM pgboss.job
      WHERE name = ${attemptQueue} AND state = 'active'
        AND heartbeat_on < now() - make_interval(secs => ${attemptLease.lapseMs / 1000})
      LIMIT 1000
    `.execute(trx);
    if (rows.length === 0) return 0;
    const failed = await boss.fail(
      attemptQueue,
      rows.map((r) => ({ id: r.id, retryCount: r.retry_count })),
      null,
      { db: bossExecutor(trx) },
    );
    return Number((failed as { affected?: unknown }).affected ?? 0);
  });
}

/**
 * Takes up to `batchSize` due attempt jobs, at most `endpointConcurrency` in flight per endpoint
 * across every dispatcher. The claim (`groupwiseClaim`, like pg-boss's own) counts an endpoint's
 * active jobs from its statement's snapshot, so two fetches at once could each see the same free
 * slots and overshoot the cap together. Fetches
 * therefore queue on one transaction-level advisory lock: each one's statement starts after the
 * previous fetch committed, and sees every job it took. A fetch takes a few milliseconds, so the
 * queue is short even with many dispatchers. The same lock makes the endpoints' pacing (pauses,
 * rate limits, FIFO lines; see pacing.ts) one decision at a time across every dispatcher.
 * `taken`: how many jobs the fetch took, before pacing (fewer than `batchSize`: none are left).
 */
export function fetchAttempts(
  db: Db,
  boss: PgBoss,
  options: {
    batchSize: number;
    endpointConcurrency: number;
    /** Endpoints (job groups) not to take jobs of now: their merchant has its share in flight. */
    skipEndpoints?: string[];
  },
): Promise<Paced & { taken: number }> {
  return db.transaction().execute(async (trx) => {
    // A dispatcher that stalls holding the lock (SIGSTOP, a lost network) must not stop every
    // other one: Postgres ends its session after 5 s idle in the transaction, and a fetch that
    // waits 10 s for the lock gives up and tries again later.
    //
    // The lock is held until COMMIT, so the COMMIT does not wait for its WAL flush: fetches queue
    // for the statement alone, not for an fsync each. Nothing durable is given up: should Postgres
    // crash before the flush, the jobs are simply not taken (runnable again, as after a dispatcher's
    // crash), and the recording transaction that completes them is synchronous, so it flushes this
    // fetch's WAL before its own.
    // Endpoints that asked to slow down keep their jobs queued until their pause is over. Read in
    // the lock's statement (one round trip less in the locked section): a pause committed while
    // this fetch waited for the lock is seen by the next fetch.
    const { rows } = await sql<{ paused: string[] | null }>`
      SELECT set_config('idle_in_transaction_session_timeout', '5s', true),
             set_config('lock_timeout', '10s', true),
             set_config('synchronous_commit', 'off', true),
             pg_advisory_xact_lock(${fetchLock}),
             ${pausedEndpoints(maxPausedSkipped)} AS paused`.execute(trx);
    const skip = [...(options.skipEndpoints ?? []), ...(rows[0]?.paused ?? [])];
    const jobs = (await boss.fetch(attemptQueue, {
      batchSize: options.batchSize,
      groupConcurrency: options.endpointConcurrency,
      includeMetadata: true,
      ...(skip.length ? { ignoreGroups: skip } : {}),
      // pg-boss's claim (what it sets and returns), on the jobs `groupwiseClaim` picks.
      db: {
        executeSql: (text, values) => {
          const claim = groupwiseClaim(text, { ...options, skip });
          return claim ? claim.execute(trx) : bossExecutor(trx).executeSql(text, values);
        },
      },
    })) as AttemptJobRecord[];
    if (jobs.length === 0) return { run: jobs, slots: [], taken: 0 };
    return { ...(await paceJobs(trx, boss, jobs)), taken: jobs.length };
  });
}

/**
 * pg-boss's fetch with a cap per group, with the jobs it claims picked so that no endpoint's backlog
 * makes every fetch slow. pg-boss walks the queue in priority and age order and passes over the jobs
 * of groups at their cap one by one: with one slow endpoint at its cap behind a backlog of 100,000
 * due jobs, every fetch read all of them (70 ms each, every dispatcher queued behind it on the fetch
 * lock), and a drain at the cap read thousands per fetch to take none.
 *
 * Here the head of the queue is read as pg-boss reads it, but at most `headScan` jobs of it. Only
 * when the head is that long (there may be more behind it) are the groups read one by one, one index
 * probe each (`fetchIndex`): the due jobs of each group with room, up to its room, in due order. The
 * candidates are then ranked per group and kept as far as each group's room goes, oldest first, up to
 * the batch. What the claim sets and returns is pg-boss's own statement (its `UPDATE … RETURNING`),
 * captured from `boss.fetch`; should that statement change shape, pg-boss's own fetch runs instead.
 */
function groupwiseClaim(
  text: string,
  options: { batchSize: number; endpointConcurrency: number; skip: string[] },
): RawBuilder<AttemptJobRecord> | undefined {
  const shape =
    /^\s*WITH\b[\s\S]*?\n\s*(UPDATE (pgboss\.\w+) j SET\b[\s\S]*?\bWHERE name = '(\w+)' AND )j\.id = ANY \(ARRAY\(SELECT id FROM group_filtered\)\)(\s*RETURNING\b[\s\S]*)$/;
  const [, update, table, name, returning] = shape.exec(text) ?? [];
  if (!update || !table || name !== attemptQueue || !returning || /[$;]/.test(update + returning))
    return undefined;
  const t = sql.raw(table);
  const { batchSize, endpointConcurrency: cap, skip } = options;
  const headScan = 2 * batchSize;
  const skipped = sql`(group_id IS NULL OR NOT (group_id = ANY(${skip}::text[])))`;
  return sql<AttemptJobRecord>`
    WITH RECURSIVE active AS MATERIALIZED (
      SELECT group_id, count(*)::int AS n FROM ${t}
      WHERE name = ${name} AND state = 'active' AND group_id IS NOT NULL
      GROUP BY group_id
    ), head AS MATERIALIZED (
      SELECT id, group_id, priority, created_on FROM ${t}
      WHERE name = ${name} AND state < 'active' AND NOT blocked AND start_after <= pgboss.job_now()
      ORDER BY priority DESC, created_on
      LIMIT ${headScan}
    ), head_ranked AS MATERIALIZED (
      SELECT h.*, row_number() OVER (PARTITION BY h.group_id ORDER BY h.priority DESC, h.created_on) AS rn
      FROM head h WHERE ${skipped}
    ), head_takes AS (
      SELECT count(*) AS n FROM head_ranked r LEFT JOIN active a ON a.group_id = r.group_id
      WHERE r.group_id IS NULL OR coalesce(a.n, 0) + r.rn <= ${cap}::int
    ), groups AS (
      -- Only when the head is full and still leaves the batch short.
      (SELECT group_id FROM ${t}
       WHERE name = ${name} AND state < 'active' AND NOT blocked AND group_id IS NOT NULL
         AND (SELECT count(*) FROM head) >= ${headScan} AND (SELECT n FROM head_takes) < ${batchSize}
       ORDER BY group_id LIMIT 1)
      UNION ALL
      SELECT (SELECT j.group_id FROM ${t} j
              WHERE j.name = ${name} AND j.state < 'active' AND NOT j.blocked AND j.group_id > g.group_id
              ORDER BY j.group_id LIMIT 1)
      FROM groups g WHERE g.group_id IS NOT NULL
    ), deep AS (
      SELECT c.* FROM groups g
      LEFT JOIN active a ON a.group_id = g.group_id
      CROSS JOIN LATERAL (
        SELECT id, group_id, priority, created_on FROM ${t}
        WHERE name = ${name} AND state < 'active' AND NOT blocked AND group_id = g.group_id
          AND start_after <= pgboss.job_now() AND ${skipped}
        ORDER BY priority DESC, start_after
        LIMIT greatest(0, ${cap}::int - coalesce(a.n, 0))
      ) c
      WHERE g.group_id IS NOT NULL
    ), ranked AS (
      SELECT c.id, c.group_id, c.priority, c.created_on,
        row_number() OVER (PARTITION BY c.group_id ORDER BY c.priority DESC, c.created_on) AS rn
      FROM (SELECT id, group_id, priority, created_on FROM head_ranked UNION SELECT * FROM deep) c
    ), picked AS (
      SELECT r.id FROM ranked r LEFT JOIN active a ON a.group_id = r.group_id
      WHERE r.group_id IS NULL OR coalesce(a.n, 0) + r.rn <= ${cap}::int
      ORDER BY r.priority DESC, r.created_on
      LIMIT ${batchSize}::int
    ), claimed AS (
      SELECT id FROM ${t}
      WHERE name = ${name} AND id = ANY(ARRAY(SELECT id FROM picked)) AND state < 'active'
      FOR UPDATE SKIP LOCKED
    )
    ${sql.raw(update)}j.id = ANY (ARRAY(SELECT id FROM claimed))${sql.raw(returning)}`;
}

// Paused endpoints skipped by one fetch, at most (one array parameter); beyond it, the paused
// endpoints' jobs are taken and run (the pause is advice, the cap per endpoint still holds).
const maxPausedSkipped = 2000;

/**
 * Puts jobs taken but not to be run now back in the queue, runnable from `delayMs` on, without
 * counting as a try: each is settled and queued again as it was (same attempt, same due time
 * on record, same priority, same endpoint group). Fenced like any completion: a job whose claim
 * lapsed meanwhile is left to whoever holds it.
 */
export function deferAttempts(
  db: Db,
  boss: PgBoss,
  jobs: AttemptJobRecord[],
  delayMs: number,
): Promise<void> {
  if (jobs.length === 0) return Promise.resolve();
  return db.transaction().execute(async (trx) => {
    // A job not among those settled is another claim's now.
    const settled = await settleAttemptJobs(trx, boss, jobs);
    const at = new Date(Date.now() + delayMs);
    const again = jobs
      .filter((j) => settled.has(j.id))
      .map((j) => ({
        data: j.data,
        startAfter: at,
        priority: j.priority ?? attemptPriority[j.data.trigger],
        group: j.groupId ? { id: j.groupId } : undefined,
        expireInSeconds: j.expireInSeconds,
      }));
    if (again.length > 0) await boss.insert(attemptQueue, again, { db: bossExecutor(trx) });
  });
}

/**
 * Finds pending deliveries that no job will ever send (a job deleted, or failed for good after
 * pg-boss's retries) and queues an attempt for each, due when the delivery says its next attempt
 * is. Only deliveries overdue by `overdueMs` are looked at (the live jobs are read once, into a
 * hash). One dispatcher at a time does it (a transaction-level advisory lock; the others skip the
 * round). Answers how many it repaired. Deliveries and jobs are read in one statement, one
 * snapshot: a delivery and its next job are always committed together, so none is seen half-done.
 */
export function reconcileDeliveries(
  db: Db,
  boss: PgBoss,
  options: { overdueMs: number; limit?: number },
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const { rows: locked } = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_xact_lock(${reconcileLock}) AS locked`.execute(trx);
    if (!locked[0]?.locked) return [];
    const { rows } = await sql<{ id: string; endpoint_id: string; timeout_ms: number; due: Date }>`
      SELECT d.id, d.endpoint_id, ep.timeout_ms, COALESCE(d.next_attempt_at, now()) AS due
      FROM deliveries d
      JOIN endpoints ep ON ep.id = d.endpoint_id
      WHERE d.status = 'pending'
        -- Only deliveries already late: one whose job is alive is normally sent when due.
        AND COALESCE(d.next_attempt_at, d.created_at) < now() - make_interval(secs => ${options.overdueMs / 1000})
        AND NOT EXISTS (
          SELECT 1 FROM pgboss.job j
          WHERE j.name = ${attemptQueue}
            AND j.state IN ('created', 'retry', 'active')
            AND j.data->>'delivery_id' = d.id
        )
        -- A FIFO endpoint's deliveries behind its head wait without a job (see pacing.ts).
        AND (ep.ordering = 'parallel' OR NOT EXISTS (
          SELECT 1 FROM deliveries h WHERE h.endpoint_id = d.endpoint_id AND h.status = 'pending' AND h.id < d.id
        ))
      LIMIT ${options.limit ?? 1000}
    `.execute(trx);
    if (rows.length === 0) return [];
    await boss.insert(
      attemptQueue,
      rows.map((r) =>
        attemptJob(r.id, { id: r.endpoint_id, timeout_ms: r.timeout_ms }, "scheduled", new Date(r.due)),
      ),
      { db: bossExecutor(trx) },
    );
    // A FIFO head queued here is no longer parked: the recorder must not queue it a second time.
    await sql`DELETE FROM fifo_parked WHERE delivery_id = ANY(${rows.map((r) => r.id)}::text[])`.execute(trx);
    return rows.map((r) => r.id);
  });
}

/**
 * The ids of the jobs a `complete()` or `fail()` settled. pg-boss (on Postgres) answers
 * `{ jobs, requested, affected, settled }`, `settled` being the ids its statement actually changed:
 * a job whose claim lapsed is left out. Anything else is refused rather than guessed: reading it
 * as "all settled" would fork the schedule of a job another dispatcher re-runs.
 */
export function settledJobIds(response: unknown): string[] {
  const { settled, affected } = (response ?? {}) as { settled?: unknown; affected?: unknown };
  if (!Array.isArray(settled) || typeof affected !== "number" || settled.length !== affected) {
    throw new Error(`pg-boss answered without the ids it settled: ${JSON.stringify(response)}`);
  }
  return settled.map(String);
}

/**
 * pg-boss's own statement for inserting `jobs`, to be run as part of a larger statement rather than
 * on its own: a data-modifying CTE commits with its neighbours, without BEGIN and COMMIT round trips.
 * Captured from `boss.insert` itself (its executor records instead of running), so the columns,
 * queue defaults and group mapping stay pg-boss's. `before` + the jobs' JSON (a `json` value) +
 * `after` is the statement; `payload` is that JSON. Undefined when pg-boss's statement cannot be
 * nested (a notifying queue wraps it in a WITH of its own): the caller then inserts the usual way.
 */
export async function composableJobInsert(
  boss: PgBoss,
  jobs: JobInsert<AttemptJob>[],
): Promise<{ before: string; after: string; payload: string } | undefined> {
  const captured = await capturedStatement((db) => boss.insert(attemptQueue, jobs, { db }), []);
  if (!captured || !/^\s*INSERT\b/i.test(captured.text) || captured.values.length !== 1) return undefined;
  const parts = captured.text.split("$1::text::json");
  if (parts.length !== 2 || /\$\d/.test(captured.text.replace("$1::text::json", ""))) return undefined;
  return { before: parts[0]!, after: parts[1]!, payload: String(captured.values[0]) };
}

/**
 * The removal of finished attempt jobs, fenced to the claims fetched as pg-boss's `complete` is,
 * as a data-modifying CTE body (`DELETE … RETURNING id`) for a larger statement: the recorder
 * settles a batch of successes in the statement that stores their attempts, one round trip in all.
 *
 * Removed, not marked completed: the attempt is on record in Herald's own tables, and a completed
 * job would be one more version of the row (an entry in three of the queue table's indexes) that
 * pg-boss's maintenance deletes a minute later anyway (the Postgres time it saves per delivered
 * event is measured in docs/benchmarks.md).
 *
 * Made from `boss.complete`'s own statement (captured, like `composableJobInsert`): its table and
 * fence stay pg-boss's. Undefined when that statement's shape is not the expected one; the caller
 * then completes the usual way.
 */
export async function composableSettle(
  boss: PgBoss,
  jobs: AttemptJobRecord[],
): Promise<RawBuilder<{ id: string }> | undefined> {
  const captured = await capturedStatement(
    (db) => complete(boss, jobs, db),
    // What pg-boss reads of a completion's answer.
    [{ count: 0, ids: [] }],
  );
  const shape =
    /^\s*WITH results AS \(\s*UPDATE\s+(\S+)\s+SET\b[\s\S]*?\bWHERE\b([\s\S]*?\bRETURNING id)\s*\)\s*SELECT COUNT\(\*\), COALESCE\(array_agg\(id\), '\{\}'::uuid\[\]\) AS ids FROM results\s*$/;
  const [, table, where] = (captured && shape.exec(captured.text)) || [];
  // Fenced, and one statement: anything else is not the statement this was written against.
  if (!captured || !table || !where || where.includes(";") || !where.includes("retry_count::text) = ANY(")) {
    return undefined;
  }
  const values = captured.values;
  // pg-boss's $n become this statement's own parameters, wherever they fall in it.
  const parts = `DELETE FROM ${table} WHERE ${where}`.split(/\$(\d+)/);
  const fragments = parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql.val(values[Number(part) - 1])));
  return sql<{ id: string }>`${sql.join(fragments, sql``)}`;
}

/**
 * Settles attempt jobs whose run is over (see `composableSettle`), in the caller's transaction when
 * it has one; answers the ids settled: a job whose claim lapsed meanwhile is another dispatcher's
 * and is left out.
 */
export async function settleAttemptJobs(
  db: Db,
  boss: PgBoss,
  jobs: AttemptJobRecord[],
): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const removal = await composableSettle(boss, jobs);
  if (removal) return new Set((await removal.execute(db)).rows.map((r) => r.id));
  return new Set(settledJobIds(await complete(boss, jobs, bossExecutor(db))));
}

/** pg-boss's own completion of `jobs`, fenced on the claims they were fetched with. */
function complete(boss: PgBoss, jobs: AttemptJobRecord[], db: BossDb) {
  return boss.complete(
    attemptQueue,
    jobs.map((j) => ({ id: j.id, retryCount: j.retryCount })),
    null,
    { db },
  );
}

/**
 * The statement a pg-boss call would run, captured instead of run: its executor records the text and
 * values and answers `rows`, as the database would have.
 */
async function capturedStatement(
  call: (db: BossDb) => Promise<unknown>,
  rows: unknown[],
): Promise<{ text: string; values: unknown[] } | undefined> {
  let captured: { text: string; values: unknown[] } | undefined;
  await call({
    executeSql: async (text, values) => {
      captured = { text, values: values ?? [] };
      return { rows };
    },
  });
  return captured;
}
