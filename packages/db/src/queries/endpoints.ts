import { sql } from "kysely";
import type { Db } from "../connect.ts";
import type { Endpoint, Mode, SignatureScheme, StoredRetryPolicy, StoredSecret } from "../schema.ts";
import { type PageRequest, page } from "./page.ts";

export interface EndpointFields {
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  retry_policy: StoredRetryPolicy;
  signature_scheme: SignatureScheme;
  headers: Record<string, string>;
  timeout_ms: number;
  metadata: Record<string, string>;
  /** Its own delivery profile; null: its merchant's. */
  profile?: string | null;
  /** Attempts started per second at most, across every dispatcher; null: no limit. */
  rate_limit_per_second?: number | null;
  /** "fifo": one at a time, in event order (see pacing.ts). */
  ordering?: "parallel" | "fifo";
}

/** A merchant's view: all its endpoints, or with a mode-bound key, those of that mode. */
export interface Scope {
  merchantId: string;
  mode?: Mode | undefined;
}

function jsonFields(fields: Partial<EndpointFields>) {
  const { retry_policy, headers, metadata, ...rest } = fields;
  return {
    ...rest,
    ...(retry_policy !== undefined && { retry_policy: JSON.stringify(retry_policy) }),
    ...(headers !== undefined && { headers: JSON.stringify(headers) }),
    ...(metadata !== undefined && { metadata: JSON.stringify(metadata) }),
  };
}

export function createEndpoint(
  db: Db,
  input: EndpointFields & { id: string; merchant_id: string; mode: Mode; secrets: StoredSecret[] },
) {
  const { retry_policy, headers, metadata, secrets, ...columns } = input;
  return db
    .insertInto("endpoints")
    .values({
      ...columns,
      retry_policy: JSON.stringify(retry_policy),
      headers: JSON.stringify(headers),
      metadata: JSON.stringify(metadata),
      secrets: JSON.stringify(secrets),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Registers an endpoint unless its merchant has `max` (not deleted) already; answers undefined
 * then. The merchant's registrations queue on a transaction-level advisory lock, so concurrent
 * requests cannot each see room for one more and pass the quota together.
 */
export function createEndpointWithinQuota(db: Db, input: Parameters<typeof createEndpoint>[1], max: number) {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`endpoints:${input.merchant_id}`}, 0))`.execute(
      trx,
    );
    const { count } = await trx
      .selectFrom("endpoints")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("merchant_id", "=", input.merchant_id)
      .where("deleted_at", "is", null)
      .executeTakeFirstOrThrow();
    if (Number(count) >= max) return undefined;
    return createEndpoint(trx, input);
  });
}

function scoped(db: Db, scope: Scope) {
  let query = db
    .selectFrom("endpoints")
    .selectAll()
    .where("merchant_id", "=", scope.merchantId)
    .where("deleted_at", "is", null);
  if (scope.mode) query = query.where("mode", "=", scope.mode);
  return query;
}

export function listEndpoints(db: Db, scope: Scope, request: PageRequest) {
  return page(scoped(db, scope), "id", request);
}

export function getEndpoint(db: Db, scope: Scope, id: string): Promise<Endpoint | undefined> {
  return scoped(db, scope).where("id", "=", id).executeTakeFirst();
}

export function updateEndpoint(
  db: Db,
  scope: Scope,
  id: string,
  patch: Partial<EndpointFields> & { secrets?: StoredSecret[] },
) {
  const { secrets, ...fields } = patch;
  let query = db
    .updateTable("endpoints")
    .set({
      ...jsonFields(fields),
      ...(secrets !== undefined && { secrets: JSON.stringify(secrets) }),
      // Re-enabling starts a fresh failure window.
      ...(fields.enabled === true && { failing_since: null, disabled_reason: null }),
      updated_at: new Date(),
    })
    .where("id", "=", id)
    .where("merchant_id", "=", scope.merchantId)
    .where("deleted_at", "is", null);
  if (scope.mode) query = query.where("mode", "=", scope.mode);
  return query.returningAll().executeTakeFirst();
}

/**
 * Replaces the endpoint's secrets with `next(current)`, holding the row so that two rotations at
 * once cannot lose a secret one of them already handed out.
 */
export function rotateSecrets(
  db: Db,
  scope: Scope,
  id: string,
  next: (current: StoredSecret[]) => StoredSecret[],
): Promise<Endpoint | undefined> {
  return db.transaction().execute(async (trx) => {
    const endpoint = await scoped(trx, scope).where("id", "=", id).forUpdate().executeTakeFirst();
    if (!endpoint) return undefined;
    return trx
      .updateTable("endpoints")
      .set({ secrets: JSON.stringify(next(endpoint.secrets)), updated_at: new Date() })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  });
}

/** Soft delete; the endpoint's pending deliveries are cancelled. */
export function deleteEndpoint(db: Db, scope: Scope, id: string) {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    let query = trx
      .updateTable("endpoints")
      .set({ deleted_at: now, enabled: false, updated_at: now })
      .where("id", "=", id)
      .where("merchant_id", "=", scope.merchantId)
      .where("deleted_at", "is", null);
    if (scope.mode) query = query.where("mode", "=", scope.mode);
    const deleted = await query.returning("id").executeTakeFirst();
    if (!deleted) return false;
    await trx
      .updateTable("deliveries")
      .set({ status: "cancelled", next_attempt_at: null, updated_at: now })
      .where("endpoint_id", "=", id)
      .where("status", "=", "pending")
      .execute();
    return true;
  });
}

/** The endpoints an event of this merchant and mode may fan out to, before type filtering. */
export function fanoutEndpoints(db: Db, merchantId: string, modes: Mode[]) {
  return db
    .selectFrom("endpoints")
    .select(["id", "mode", "event_types", "timeout_ms"])
    .where("merchant_id", "=", merchantId)
    .where("mode", "in", modes)
    .where("enabled", "=", true)
    .where("deleted_at", "is", null)
    .execute();
}

/** How long an endpoint may fail without a single success before it is disabled. */
export interface FailureWindow {
  /** As configured (`HERALD_DISABLE_AFTER_HOURS`), for the reason merchants read. */
  hours: number;
  /** The same window in milliseconds, as the dispatcher measures it (scaled in tests). */
  ms: number;
}

/** What one recorded attempt says about its endpoint's health. */
export interface EndpointOutcome {
  endpoint_id: string;
  succeeded: boolean;
  /** Set when the endpoint must be disabled now (410 Gone). */
  disable_reason: string | null;
  /**
   * False when the endpoint had no run of failures as the attempt was taken (`failing_since` was
   * null then). Undefined: not known.
   */
  endpoint_failing?: boolean;
}

/**
 * Whether recording this outcome may change its endpoint's health: a failure does, and so does a
 * success of an endpoint that was failing or not known not to be. A success of an endpoint that
 * was not failing changes nothing. (A failure another dispatcher records meanwhile stays marked
 * until one of the endpoint's next successes, fetched after it, clears it.)
 */
export function touchesEndpointHealth(outcome: EndpointOutcome): boolean {
  return !outcome.succeeded || outcome.disable_reason !== null || outcome.endpoint_failing !== false;
}

/**
 * Keeps each endpoint's run of failures (`failing_since`, cleared by any success in the batch) and
 * disables the endpoints that asked for it (410 Gone) or that have failed without a success for the
 * whole window. One statement for the usual batch, failures or not; each 410 reason adds one.
 * Answers the endpoints disabled now, and why: their pending deliveries are the caller's to end.
 */
export async function recordEndpointHealth(
  db: Db,
  given: EndpointOutcome[],
  failureWindow: FailureWindow,
): Promise<{ endpoint_id: string; reason: string }[]> {
  // The usual batch of a healthy provider changes nothing and costs no statement.
  const quiet = new Set(given.map((o) => o.endpoint_id));
  for (const o of given) if (touchesEndpointHealth(o)) quiet.delete(o.endpoint_id);
  const outcomes = given.filter((o) => !quiet.has(o.endpoint_id));
  if (outcomes.length === 0) return [];
  // The dispatcher's clock, as the window is measured in it (scaled in tests).
  const now = new Date();
  const windowReason = `every attempt failed for ${plural(failureWindow.hours, "hour")}`;
  const { rows } = await sql<{ id: string }>`
    WITH health AS (
      SELECT id, bool_or(ok) AS ok
      FROM unnest(${outcomes.map((o) => o.endpoint_id)}::text[], ${outcomes.map((o) => o.succeeded)}::bool[]) AS o(id, ok)
      GROUP BY id
    ), marked AS (
      UPDATE endpoints e SET failing_since = CASE WHEN h.ok THEN NULL ELSE ${now}::timestamptz END
      FROM health h
      WHERE e.id = h.id AND ((h.ok AND e.failing_since IS NOT NULL) OR (NOT h.ok AND e.failing_since IS NULL))
      RETURNING e.id
    )
    -- Disjoint from the rows marked above: those had no failing_since to be old.
    UPDATE endpoints e SET enabled = false, disabled_reason = ${windowReason}, updated_at = ${now}
    FROM health h
    WHERE e.id = h.id AND NOT h.ok AND e.enabled
      AND e.failing_since < ${new Date(now.getTime() - failureWindow.ms)}
    RETURNING e.id
  `.execute(db);
  const disabled = rows.map((r) => ({ endpoint_id: r.id, reason: windowReason }));
  for (const reason of new Set(outcomes.flatMap((o) => (o.disable_reason ? [o.disable_reason] : [])))) {
    const gone = await db
      .updateTable("endpoints")
      .set({ enabled: false, disabled_reason: reason, updated_at: new Date() })
      .where("id", "in", [
        ...new Set(outcomes.filter((o) => o.disable_reason === reason).map((o) => o.endpoint_id)),
      ])
      .where("enabled", "=", true)
      .returning("id")
      .execute();
    disabled.push(...gone.map((r) => ({ endpoint_id: r.id, reason })));
  }
  return disabled;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}
