import { type Insertable, type RawBuilder, sql } from "kysely";
import type { Db } from "../connect.ts";
import type { DeliveriesTable, DeliveryStatus, Mode } from "../schema.ts";
import { type FailureWindow, recordEndpointHealth } from "./endpoints.ts";
import { type PageRequest, page } from "./page.ts";

export interface DeliveryFilter {
  merchantId: string;
  mode?: Mode | undefined;
  endpointId?: string | undefined;
  eventId?: string | undefined;
  eventType?: string | undefined;
  status?: DeliveryStatus | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

function deliveriesQuery(db: Db, filter: DeliveryFilter) {
  let query = db.selectFrom("deliveries").selectAll().where("merchant_id", "=", filter.merchantId);
  if (filter.mode) query = query.where("mode", "=", filter.mode);
  if (filter.endpointId) query = query.where("endpoint_id", "=", filter.endpointId);
  if (filter.eventId) query = query.where("event_id", "=", filter.eventId);
  if (filter.eventType) query = query.where("event_type", "=", filter.eventType);
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.since) query = query.where("created_at", ">=", filter.since);
  if (filter.until) query = query.where("created_at", "<", filter.until);
  return query;
}

export function listDeliveries(db: Db, filter: DeliveryFilter, request: PageRequest) {
  return page(deliveriesQuery(db, filter), "id", request);
}

export function getDelivery(db: Db, filter: DeliveryFilter, id: string) {
  return deliveriesQuery(db, filter).where("id", "=", id).executeTakeFirst();
}

export function listAttempts(db: Db, deliveryId: string) {
  return db
    .selectFrom("attempts")
    .selectAll()
    .where("delivery_id", "=", deliveryId)
    .orderBy("number")
    .execute();
}

/**
 * Everything one attempt needs, for a batch of deliveries: the delivery, its event's bytes, its
 * endpoint, and its delivery profile (the endpoint's own, else its merchant's; null: the default).
 */
export function attemptContexts(db: Db, deliveryIds: string[]) {
  // The ids as one array parameter, not a list of them: the same statement text for every batch
  // size, so the hot pool prepares and plans it once per connection (a list planned it anew on
  // each fetch: 0.4 ms).
  return db
    .selectFrom("deliveries as d")
    .innerJoin("events as e", "e.id", "d.event_id")
    .innerJoin("endpoints as ep", "ep.id", "d.endpoint_id")
    .leftJoin("merchants as m", "m.id", "d.merchant_id")
    .leftJoin("profiles as p", (join) => join.on(sql<boolean>`p.name = coalesce(ep.profile, m.profile)`))
    .select([
      "d.id",
      "d.merchant_id",
      "d.status",
      "d.created_at",
      "d.event_id",
      "d.endpoint_id",
      "e.body",
      "ep.url",
      "ep.enabled",
      "ep.deleted_at",
      "ep.retry_policy",
      "ep.signature_scheme",
      "ep.headers",
      "ep.timeout_ms",
      "ep.secrets",
      "ep.updated_at as endpoint_updated_at",
      "ep.ordering",
      "ep.failing_since",
      "p.name as profile_name",
      "p.settings as profile_settings",
    ])
    .where(sql<boolean>`d.id = ANY(${deliveryIds}::text[])`)
    .execute();
}

export type AttemptContext = Awaited<ReturnType<typeof attemptContexts>>[number];

/** What one attempt did, and what it decided for its delivery and endpoint. */
export interface AttemptRecord {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  trigger: "scheduled" | "manual" | "test";
  scheduled_at: Date;
  started_at: Date;
  duration_ms: number;
  request_url: string;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  /** How `response_body` holds the bytes: as text, or base64 when they are not storable as text. */
  response_body_encoding: "utf8" | "base64";
  error: string | null;
  error_detail: string | null;
  /** The bytes sent when they differ from the event's stored body; null: exactly that body. */
  request_body?: string | null;
  /** The delivery's status after this attempt; null leaves it as it is. */
  status: DeliveryStatus | null;
  next_attempt_at: Date | null;
  succeeded: boolean;
  /** Set when the endpoint must be disabled now (410 Gone). */
  disable_reason: string | null;
  /** Whether the endpoint had a run of failures as the attempt was taken (see `EndpointOutcome`). */
  endpoint_failing?: boolean;
}

export interface RecordedAttempts {
  /** Each stored attempt's number within its delivery, by attempt id. */
  numbers: Map<string, number>;
  /** Endpoints disabled by this batch, and why. */
  disabled: { endpoint_id: string; reason: string }[];
  /** With `settling`: the ids of the jobs it settled. */
  settled?: string[];
}

/**
 * Records a batch of finished attempts in the caller's transaction, in one statement: counts each
 * on its delivery (the row lock orders concurrent recorders, so attempt numbers never repeat),
 * stores the attempt rows, and answers each stored attempt's number. An attempt whose delivery is
 * gone meanwhile (retention, a deleted event), or that is stored already (a batch retried after its
 * commit went through unacknowledged), is dropped rather than failing the batch. Then the
 * endpoints' failure windows are kept (see `recordEndpointHealth`).
 *
 * The rows travel as one typed array per column (`unnest`): no per-row JSON on either side, and a
 * batch of any size is the same single round trip. `settling` (a data-modifying CTE body that
 * answers `id`s, see `composableSettle`) runs in the same statement: its ids are `settled`.
 * Outside a transaction, that statement is the whole write only when no endpoint's health changes
 * (successes of endpoints that were not failing): the recorder's one-statement path.
 */
export async function recordAttempts(
  db: Db,
  batch: AttemptRecord[],
  failureWindow: FailureWindow,
  settling?: RawBuilder<unknown>,
): Promise<RecordedAttempts> {
  if (batch.length === 0) return { numbers: new Map(), disabled: [] };
  const column = <T>(pick: (r: AttemptRecord) => T) => batch.map(pick);
  const { rows } = await sql<{ id: string; number: number | null }>`
    WITH ${settling ? sql`settled AS (${settling}), ` : sql``}input AS (
      SELECT * FROM unnest(
        ${column((r) => r.id)}::text[], ${column((r) => r.delivery_id)}::text[],
        ${column((r) => r.endpoint_id)}::text[], ${column((r) => r.trigger)}::text[],
        ${column((r) => r.scheduled_at.toISOString())}::timestamptz[],
        ${column((r) => r.started_at.toISOString())}::timestamptz[],
        ${column((r) => Math.round(r.duration_ms))}::int[], ${column((r) => r.request_url)}::text[],
        ${column((r) => JSON.stringify(r.request_headers))}::jsonb[], ${column((r) => r.response_status)}::int[],
        ${column((r) => (r.response_headers ? JSON.stringify(r.response_headers) : null))}::jsonb[],
        ${column((r) => r.response_body)}::text[], ${column((r) => r.response_body_encoding)}::text[],
        ${column((r) => r.error)}::text[], ${column((r) => r.error_detail)}::text[],
        ${column((r) => r.request_body ?? null)}::text[], ${column((r) => r.status)}::text[],
        ${column((r) => r.next_attempt_at?.toISOString() ?? null)}::timestamptz[]
      ) WITH ORDINALITY AS i(id, delivery_id, endpoint_id, trigger, scheduled_at, started_at, duration_ms,
        request_url, request_headers, response_status, response_headers, response_body,
        response_body_encoding, error, error_detail, request_body, status, next_attempt_at, idx)
    ), fresh AS (
      SELECT i.*,
        row_number() OVER (PARTITION BY i.delivery_id ORDER BY i.idx) AS ordinal,
        count(*) OVER (PARTITION BY i.delivery_id) AS n
      FROM input i
      -- Probes by the key list (an index scan whatever the plan thinks of unnest's row count), not
      -- a join the planner may turn into a scan of the whole table.
      WHERE i.id NOT IN (SELECT a.id FROM attempts a WHERE a.id = ANY(${column((r) => r.id)}::text[]))
    ), last AS (
      -- A delivery's state is what its last attempt of the batch decided.
      SELECT DISTINCT ON (delivery_id) * FROM fresh ORDER BY delivery_id, idx DESC
    ), counted AS (
      UPDATE deliveries d SET
        attempt_count = d.attempt_count + c.n,
        -- Settled for good: an attempt in flight when its delivery succeeded or was cancelled (its
        -- merchant or endpoint deleted) is counted and stored, and changes nothing else.
        status = CASE WHEN c.status IS NULL OR d.status IN ('succeeded', 'cancelled') THEN d.status ELSE c.status END,
        next_attempt_at = CASE WHEN c.status IS NULL OR d.status IN ('succeeded', 'cancelled') THEN d.next_attempt_at ELSE c.next_attempt_at END,
        last_status = c.response_status,
        last_error = c.error,
        updated_at = now()
      FROM last c
      WHERE d.id = c.delivery_id AND d.id = ANY(${[...new Set(column((r) => r.delivery_id))]}::text[])
      RETURNING d.id, d.attempt_count
    ), stored AS (
      INSERT INTO attempts (id, delivery_id, endpoint_id, number, trigger, scheduled_at, started_at,
        duration_ms, request_url, request_headers, response_status, response_headers, response_body,
        response_body_encoding, error, error_detail, request_body)
      SELECT f.id, f.delivery_id, f.endpoint_id, (c.attempt_count - f.n + f.ordinal)::int, f.trigger,
        f.scheduled_at, f.started_at, f.duration_ms, f.request_url, f.request_headers, f.response_status,
        f.response_headers, f.response_body, f.response_body_encoding, f.error, f.error_detail, f.request_body
      FROM fresh f JOIN counted c ON c.id = f.delivery_id
      RETURNING id, number
    )
    SELECT id, number FROM stored
    ${settling ? sql`UNION ALL SELECT id::text, NULL FROM settled` : sql``}
  `.execute(db);
  const numbers = new Map(rows.flatMap((r) => (r.number === null ? [] : [[r.id, r.number] as const])));
  // Attempts already stored count for their endpoint's health no more than they did the first time.
  const stored = batch.filter((r) => numbers.has(r.id));
  const disabled = await recordEndpointHealth(db, stored, failureWindow);
  // A disabled endpoint's pending deliveries end failed at once, with the reason: they would never
  // be sent, and `recover` re-sends failed deliveries once the merchant has fixed the endpoint.
  for (const reason of new Set(disabled.map((d) => d.reason))) {
    const ids = disabled.filter((d) => d.reason === reason).map((d) => d.endpoint_id);
    await abandonPendingOf(db, ids, `endpoint disabled: ${reason}`);
  }
  return {
    numbers,
    disabled,
    ...(settling && { settled: rows.flatMap((r) => (r.number === null ? [r.id] : [])) }),
  };
}

function abandonPendingOf(db: Db, endpointIds: string[], reason: string) {
  return db
    .updateTable("deliveries")
    .set({ status: "failed", next_attempt_at: null, last_error: reason, updated_at: new Date() })
    .where("endpoint_id", "in", endpointIds)
    .where("status", "=", "pending")
    .execute();
}

/** A delivery that can no longer be attempted (its endpoint is gone or disabled) ends failed. */
export function abandonDeliveries(db: Db, ids: string[], reason: string) {
  return db
    .updateTable("deliveries")
    .set({ status: "failed", next_attempt_at: null, last_error: reason, updated_at: new Date() })
    .where("id", "in", ids)
    .where("status", "=", "pending")
    .execute();
}

/** The channel a waiting `/test` call LISTENs on; each NOTIFY's payload is one delivery id. */
export const attemptRecordedChannel = "herald_attempt_recorded";

/**
 * Says, when the caller's transaction commits, that an attempt of each of these deliveries is on
 * record: someone (a `/test` call) may be waiting for it. Postgres folds duplicate payloads.
 */
export async function announceRecorded(db: Db, deliveryIds: string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await sql`SELECT pg_notify(${attemptRecordedChannel}, id) FROM unnest(${deliveryIds}::text[]) AS id`.execute(
    db,
  );
}

/**
 * New deliveries, each due at its creation. One per (event, endpoint): a row whose pair has one
 * already (a racing resend made it) is skipped. Answers the endpoints that got theirs.
 */
export async function insertDeliveries(
  db: Db,
  rows: Omit<Insertable<DeliveriesTable>, "next_attempt_at">[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await db
    .insertInto("deliveries")
    .values(rows.map((row) => ({ ...row, next_attempt_at: row.created_at })))
    .onConflict((conflict) => conflict.columns(["event_id", "endpoint_id"]).doNothing())
    .returning("endpoint_id")
    .execute();
  return new Set(inserted.map((d) => d.endpoint_id));
}
