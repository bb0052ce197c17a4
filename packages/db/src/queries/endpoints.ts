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
