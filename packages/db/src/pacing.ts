import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import type { Db } from "./connect.ts";
import {
  type AttemptJobRecord,
  attemptJob,
  attemptPriority,
  attemptQueue,
  bossExecutor,
  fetchLock,
  settleAttemptJobs,
} from "./queue.ts";

/**
 * Pacing: what an endpoint's own settings say about when its attempts may start, on top of the
 * queue's due times and the per-endpoint in-flight cap. Three rules, all applied by the fetch inside
 * its transaction (under the fetch lock, so every dispatcher sees the previous fetch's decisions):
 *
 * - Slow-down: an endpoint that answered 429, 502 or 504 is paused (`endpoint_pauses`); the fetch
 *   does not take its jobs until the pause is over.
 * - Throttling: an endpoint with `rate_limit_per_second` gets start slots spaced 1/rate apart, from
 *   one row per endpoint (`endpoint_slots`). A job taken before its slot goes back to the queue
 *   runnable at that slot, which it keeps (its data carries it): each job is put back once, however
 *   long the backlog.
 * - FIFO: an endpoint with `ordering = 'fifo'` runs only the job of its oldest pending delivery (the
 *   head), one at a time. The jobs of deliveries behind it are parked (`fifo_parked`), without a job,
 *   until the recorder finds them at the head (`queueFifoHeads`).
 */

/** Data of a job held back for its throttle slot: it starts then without taking another slot. */
export interface SlotData {
  slot?: string;
}

interface EndpointPace {
  id: string;
  rate_limit_per_second: number | null;
  ordering: string;
}

/** What the fetch does with the jobs it took: run now, or put back, or park. */
export interface Paced {
  run: AttemptJobRecord[];
  /** The slots jobs were put back for: a dispatcher that wakes then finds each due. */
  slots: Date[];
  /** How many jobs were parked behind a FIFO head. */
  parked?: number;
}

/** Endpoints paused now (a slow-down answer), as an array subquery: the fetch skips their jobs. */
export function pausedEndpoints(limit: number) {
  return sql<string[] | null>`(
    SELECT array_agg(endpoint_id) FROM (
      SELECT endpoint_id FROM endpoint_pauses WHERE paused_until > now() ORDER BY paused_until DESC LIMIT ${limit}
    ) p)`;
}

/**
 * Applies the throttle and FIFO rules to jobs just taken, in the fetch's transaction: answers those
 * to run now, and has put the others back (throttled) or parked (behind a FIFO head).
 */
export async function paceJobs(db: Db, boss: PgBoss, jobs: AttemptJobRecord[]): Promise<Paced> {
  const groups = [...new Set(jobs.flatMap((j) => (j.groupId ? [j.groupId] : [])))];
  if (groups.length === 0) return { run: jobs, slots: [] };
  const { rows: paced } = await sql<EndpointPace>`
    SELECT id, rate_limit_per_second, ordering FROM endpoints
    WHERE id = ANY(${groups}::text[]) AND (rate_limit_per_second IS NOT NULL OR ordering = 'fifo')
  `.execute(db);
  if (paced.length === 0) return { run: jobs, slots: [] };
  const byId = new Map(paced.map((p) => [p.id, p]));
  let run = jobs;
  const park: AttemptJobRecord[] = [];
  const putBack: { job: AttemptJobRecord; at: Date; slot?: boolean }[] = [];

  const fifo = paced.filter((p) => p.ordering === "fifo").map((p) => p.id);
  if (fifo.length > 0) {
    const { heads, busy } = await fifoState(
      db,
      fifo,
      jobs.map((j) => j.id),
    );
    const started = new Set<string>();
    run = run.filter((job) => {
      const endpoint = job.groupId;
      // Test sends and manual retries are asked for by a person; they do not wait in line.
      if (!endpoint || !fifo.includes(endpoint) || job.data.trigger !== "scheduled") return true;
      const head = heads.get(endpoint);
      // No pending head: this delivery was settled meanwhile, and its attempt will do nothing.
      if (head !== undefined && head !== job.data.delivery_id) {
        park.push(job);
        return false;
      }
      // The head, while another attempt to the endpoint is running: a moment later.
      if (busy.has(endpoint) || started.has(endpoint)) {
        putBack.push({ job, at: new Date(Date.now() + 250) });
        return false;
      }
      started.add(endpoint);
      return true;
    });
  }

  const limited = paced.filter((p) => p.rate_limit_per_second !== null);
  const slots: Date[] = [];
  if (limited.length > 0) {
    const { rows } = await sql<{ endpoint_id: string; next_at: Date; now: Date }>`
      SELECT e.id AS endpoint_id, coalesce(s.next_at, now()) AS next_at, now() AS now
      FROM unnest(${limited.map((p) => p.id)}::text[]) AS e(id)
      LEFT JOIN endpoint_slots s ON s.endpoint_id = e.id
    `.execute(db);
    const next = new Map(rows.map((r) => [r.endpoint_id, r.next_at.getTime()]));
    const now = rows[0]!.now.getTime();
    run = run.filter((job) => {
      const endpoint = job.groupId ? byId.get(job.groupId) : undefined;
      const rate = endpoint?.rate_limit_per_second;
      if (!endpoint || !rate || job.data.trigger === "test") return true;
      // Held back for this slot already: its turn has come.
      if ((job.data as SlotData).slot) return true;
      const slot = Math.max(now, next.get(endpoint.id)!);
      next.set(endpoint.id, slot + 1000 / rate);
      if (slot <= now) return true;
      putBack.push({ job, at: new Date(slot), slot: true });
      slots.push(new Date(slot));
      return false;
    });
    await sql`
      INSERT INTO endpoint_slots (endpoint_id, next_at)
      SELECT * FROM unnest(${[...next.keys()]}::text[], ${[...next.values()].map((t) => new Date(t).toISOString())}::timestamptz[])
      ON CONFLICT (endpoint_id) DO UPDATE SET next_at = excluded.next_at
    `.execute(db);
  }

  const settle = [...park, ...putBack.map((p) => p.job)];
  await settleAttemptJobs(db, boss, settle);
  if (park.length > 0) {
    await sql`
      INSERT INTO fifo_parked (delivery_id, endpoint_id)
      SELECT * FROM unnest(${park.map((j) => j.data.delivery_id)}::text[], ${park.map((j) => j.groupId!)}::text[])
      ON CONFLICT (delivery_id) DO NOTHING
    `.execute(db);
  }
  if (putBack.length > 0) {
    await boss.insert(
      attemptQueue,
      putBack.map(({ job, at, slot }) => ({
        // Only a throttle slot is kept: a FIFO head put back for a moment has reserved none.
        data: slot ? { ...job.data, slot: at.toISOString() } : job.data,
        startAfter: at,
        priority: job.priority ?? attemptPriority[job.data.trigger],
        group: job.groupId ? { id: job.groupId } : undefined,
        expireInSeconds: job.expireInSeconds,
      })),
      { db: bossExecutor(db) },
    );
  }
  return { run, slots, parked: park.length };
}

/** Each FIFO endpoint's head delivery, and which of them have an attempt running (other than `taken`). */
async function fifoState(db: Db, endpoints: string[], taken: string[]) {
  const { rows: heads } = await sql<{ endpoint_id: string; head: string | null }>`
    SELECT e.id AS endpoint_id,
      (SELECT d.id FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' ORDER BY d.id LIMIT 1) AS head
    FROM unnest(${endpoints}::text[]) AS e(id)
  `.execute(db);
  const { rows: busy } = await sql<{ group_id: string }>`
    SELECT DISTINCT group_id FROM pgboss.job
    WHERE name = ${attemptQueue} AND state = 'active' AND group_id = ANY(${endpoints}::text[])
      AND NOT (id = ANY(${taken}::uuid[]))
  `.execute(db);
  return {
    heads: new Map(heads.flatMap((h) => (h.head ? [[h.endpoint_id, h.head] as const] : []))),
    busy: new Set(busy.map((b) => b.group_id)),
  };
}

/**
 * Queues the head of each of these FIFO endpoints' lines if it was parked: its turn has come (the
 * delivery ahead of it succeeded, was exhausted, or was cancelled). In the recorder's transaction,
 * after the fetch lock, so that a fetch parking a delivery and this check never miss each other.
 */
export async function queueFifoHeads(db: Db, boss: PgBoss, endpoints: string[]): Promise<number> {
  if (endpoints.length === 0) return 0;
  await takeFetchLock(db);
  const { rows } = await sql<{ id: string; endpoint_id: string; timeout_ms: number; due: Date }>`
    WITH heads AS (
      SELECT (SELECT d.id FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' ORDER BY d.id LIMIT 1) AS id
      FROM unnest(${endpoints}::text[]) AS e(id)
    ), unparked AS (
      DELETE FROM fifo_parked p USING heads h WHERE p.delivery_id = h.id RETURNING p.delivery_id
    )
    SELECT d.id, d.endpoint_id, ep.timeout_ms, greatest(coalesce(d.next_attempt_at, now()), now()) AS due
    FROM unparked u JOIN deliveries d ON d.id = u.delivery_id JOIN endpoints ep ON ep.id = d.endpoint_id
  `.execute(db);
  if (rows.length === 0) return 0;
  await boss.insert(
    attemptQueue,
    rows.map((r) =>
      attemptJob(r.id, { id: r.endpoint_id, timeout_ms: r.timeout_ms }, "scheduled", new Date(r.due)),
    ),
    { db: bossExecutor(db) },
  );
  return rows.length;
}

/**
 * Gives every parked delivery of an endpoint its job back (the endpoint is no longer FIFO): they
 * are sent as any other.
 */
export function releaseParked(db: Db, boss: PgBoss, endpointId: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await takeFetchLock(trx);
    const { rows } = await sql<{ id: string; timeout_ms: number }>`
      WITH released AS (DELETE FROM fifo_parked WHERE endpoint_id = ${endpointId} RETURNING delivery_id)
      SELECT d.id, ep.timeout_ms FROM released r
      JOIN deliveries d ON d.id = r.delivery_id AND d.status = 'pending'
      JOIN endpoints ep ON ep.id = d.endpoint_id
    `.execute(trx);
    if (rows.length === 0) return 0;
    await boss.insert(
      attemptQueue,
      rows.map((r) =>
        attemptJob(r.id, { id: endpointId, timeout_ms: r.timeout_ms }, "scheduled", new Date()),
      ),
      { db: bossExecutor(trx) },
    );
    return rows.length;
  });
}

/**
 * Pauses endpoints that asked to slow down, each until `now + ms` (a later pause already set
 * stands). Written by the recorder only.
 */
export async function pauseEndpoints(db: Db, pauses: { endpoint_id: string; ms: number }[]): Promise<void> {
  if (pauses.length === 0) return;
  const longest = new Map<string, number>();
  // Rows in one order everywhere: concurrent recorders wait for each other instead of deadlocking.
  for (const p of [...pauses].sort((a, b) => (a.endpoint_id < b.endpoint_id ? -1 : 1)))
    longest.set(p.endpoint_id, Math.max(longest.get(p.endpoint_id) ?? 0, p.ms));
  await sql`
    INSERT INTO endpoint_pauses (endpoint_id, paused_until)
    SELECT e, now() + make_interval(secs => ms / 1000.0)
    FROM unnest(${[...longest.keys()]}::text[], ${[...longest.values()]}::float8[]) AS p(e, ms)
    ON CONFLICT (endpoint_id) DO UPDATE SET paused_until = greatest(endpoint_pauses.paused_until, excluded.paused_until)
  `.execute(db);
}

/**
 * The fetch lock (see `fetchAttempts`), taken by writers whose decisions a concurrent fetch must
 * see whole.
 */
export async function takeFetchLock(db: Db): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${fetchLock})`.execute(db);
}

/**
 * For pending deliveries of FIFO endpoints, the head of each such endpoint's line (by endpoint):
 * a pending delivery that is not its endpoint's head waits behind it.
 */
export async function fifoHeadsOf(
  db: Db,
  deliveries: { endpoint_id: string; status: string }[],
): Promise<Map<string, string>> {
  const endpoints = [...new Set(deliveries.filter((d) => d.status === "pending").map((d) => d.endpoint_id))];
  if (endpoints.length === 0) return new Map();
  const { rows } = await sql<{ endpoint_id: string; head: string | null }>`
    SELECT ep.id AS endpoint_id,
      (SELECT d.id FROM deliveries d WHERE d.endpoint_id = ep.id AND d.status = 'pending' ORDER BY d.id LIMIT 1) AS head
    FROM endpoints ep WHERE ep.id = ANY(${endpoints}::text[]) AND ep.ordering = 'fifo'
  `.execute(db);
  return new Map(rows.flatMap((r) => (r.head ? [[r.endpoint_id, r.head] as const] : [])));
}

/** The delivery `delivery` waits behind in its FIFO line, if any. */
export function waitingBehind(
  delivery: { id: string; endpoint_id: string; status: string },
  heads: Map<string, string>,
): string | undefined {
  const head = delivery.status === "pending" ? heads.get(delivery.endpoint_id) : undefined;
  return head !== undefined && head !== delivery.id ? head : undefined;
}
