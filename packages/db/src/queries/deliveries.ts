import { type Insertable, sql } from "kysely";
import type { Db } from "../connect.ts";
import type { DeliveriesTable, DeliveryStatus, Mode } from "../schema.ts";
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
      "p.name as profile_name",
      "p.settings as profile_settings",
    ])
    .where("d.id", "in", deliveryIds)
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
}

/** How long an endpoint may fail without a single success before it is disabled. */
export interface FailureWindow {
  /** As configured (`HERALD_DISABLE_AFTER_HOURS`), for the reason merchants read. */
  hours: number;
  /** The same window in milliseconds, as the dispatcher measures it (scaled in tests). */
  ms: number;
}

export interface RecordedAttempts {
  /** Each stored attempt's number within its delivery, by attempt id. */
  numbers: Map<string, number>;
  /** Endpoints disabled by this batch, and why. */
  disabled: { endpoint_id: string; reason: string }[];
}

/**
 * Records a batch of finished attempts in the caller's transaction: counts each on its delivery
 * (the row lock orders concurrent recorders, so attempt numbers never repeat), stores the attempt
 * rows, and keeps each endpoint's failure window. An attempt whose delivery is gone meanwhile
 * (retention, a deleted event), or that is stored already, is dropped rather than failing the batch.
 */
export async function recordAttempts(
  db: Db,
  batch: AttemptRecord[],
  failureWindow: FailureWindow,
): Promise<RecordedAttempts> {
  // A batch retried after its commit went through unacknowledged would otherwise repeat itself.
  const stored = await db
    .selectFrom("attempts")
    .select("id")
    .where(
      "id",
      "in",
      batch.map((r) => r.id),
    )
    .execute();
  const already = new Set(stored.map((r) => r.id));
  const records = batch.filter((r) => !already.has(r.id));
  if (records.length === 0) return { numbers: new Map(), disabled: [] };
  const perDelivery = new Map<string, number>();
  const rows = records.map((r) => {
    const ordinal = (perDelivery.get(r.delivery_id) ?? 0) + 1;
    perDelivery.set(r.delivery_id, ordinal);
    return { ...r, ordinal };
  });
  const counts = [...perDelivery].map(([id, n]) => {
    const last = rows.findLast((r) => r.delivery_id === id)!;
    return {
      id,
      n,
      status: last.status,
      next_attempt_at: last.next_attempt_at,
      last_status: last.response_status,
      last_error: last.error,
    };
  });
  const { rows: totals } = await sql<{ id: string; attempt_count: number }>`
    UPDATE deliveries d SET
      attempt_count = d.attempt_count + c.n,
      status = CASE WHEN c.status IS NULL OR d.status = 'succeeded' THEN d.status ELSE c.status END,
      next_attempt_at = CASE WHEN c.status IS NULL OR d.status = 'succeeded' THEN d.next_attempt_at ELSE c.next_attempt_at END,
      last_status = c.last_status,
      last_error = c.last_error,
      updated_at = now()
    FROM jsonb_to_recordset(${JSON.stringify(counts)}::jsonb)
      AS c(id text, n int, status text, next_attempt_at timestamptz, last_status int, last_error text)
    WHERE d.id = c.id
    RETURNING d.id, d.attempt_count
  `.execute(db);
  const total = new Map(totals.map((t) => [t.id, t.attempt_count]));
  const kept = rows.filter((r) => total.has(r.delivery_id));
  const numbers = new Map(
    kept.map((r) => [r.id, total.get(r.delivery_id)! - perDelivery.get(r.delivery_id)! + r.ordinal]),
  );
  if (kept.length > 0) {
    await db
      .insertInto("attempts")
      .values(
        kept.map((r) => ({
          id: r.id,
          delivery_id: r.delivery_id,
          endpoint_id: r.endpoint_id,
          number: numbers.get(r.id)!,
          trigger: r.trigger,
          scheduled_at: r.scheduled_at,
          started_at: r.started_at,
          duration_ms: r.duration_ms,
          request_url: r.request_url,
          request_headers: JSON.stringify(r.request_headers),
          response_status: r.response_status,
          response_headers: r.response_headers && JSON.stringify(r.response_headers),
          response_body: r.response_body,
          response_body_encoding: r.response_body_encoding,
          error: r.error,
          error_detail: r.error_detail,
          request_body: r.request_body ?? null,
        })),
      )
      .execute();
  }
  return { numbers, disabled: await updateEndpointHealth(db, records, failureWindow) };
}

/**
 * Keeps each endpoint's run of failures (`failing_since`, cleared by any success) and disables the
 * endpoints that asked for it (410 Gone) or that have failed without a success for the whole
 * window. A disabled endpoint's pending deliveries end failed at once, with the reason: they would
 * never be sent, and `recover` re-sends failed deliveries once the merchant has fixed the endpoint.
 */
async function updateEndpointHealth(
  db: Db,
  records: AttemptRecord[],
  failureWindow: FailureWindow,
): Promise<{ endpoint_id: string; reason: string }[]> {
  const healthy = new Set(records.filter((r) => r.succeeded).map((r) => r.endpoint_id));
  const failing = [...new Set(records.filter((r) => !r.succeeded).map((r) => r.endpoint_id))].filter(
    (id) => !healthy.has(id),
  );
  if (healthy.size > 0) {
    await db
      .updateTable("endpoints")
      .set({ failing_since: null })
      .where("id", "in", [...healthy])
      .where("failing_since", "is not", null)
      .execute();
  }
  const disabled: { endpoint_id: string; reason: string }[] = [];
  /** Disables those of `ids` still enabled (and, with `failingBefore`, failing since before it). */
  const disable = async (ids: string[], reason: string, failingBefore?: Date) => {
    const rows = await db
      .updateTable("endpoints")
      .set({ enabled: false, disabled_reason: reason, updated_at: new Date() })
      .where("id", "in", ids)
      .where("enabled", "=", true)
      .$if(failingBefore !== undefined, (query) => query.where("failing_since", "<", failingBefore!))
      .returning("id")
      .execute();
    if (rows.length === 0) return;
    const endpointIds = rows.map((r) => r.id);
    await abandonPendingOf(db, endpointIds, `endpoint disabled: ${reason}`);
    disabled.push(...endpointIds.map((endpoint_id) => ({ endpoint_id, reason })));
  };
  if (failing.length > 0) {
    await db
      .updateTable("endpoints")
      .set({ failing_since: new Date() })
      .where("id", "in", failing)
      .where("failing_since", "is", null)
      .execute();
    await disable(
      failing,
      `every attempt failed for ${plural(failureWindow.hours, "hour")}`,
      new Date(Date.now() - failureWindow.ms),
    );
  }
  for (const reason of new Set(records.flatMap((r) => (r.disable_reason ? [r.disable_reason] : [])))) {
    const gone = records.filter((r) => r.disable_reason === reason).map((r) => r.endpoint_id);
    await disable([...new Set(gone)], reason);
  }
  return disabled;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
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
