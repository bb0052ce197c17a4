import { matchesEventType } from "@herald/core";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import type { Db } from "../connect.ts";
import type { Mode } from "../schema.ts";
import { fanoutEndpoints, type Scope } from "./endpoints.ts";
import { prepareEmit, writeEmits } from "./events.ts";

/**
 * Operational webhooks: the provider's own endpoints, told about trouble with its merchants'
 * endpoints. They are the endpoints of a reserved merchant (migration 0011), so their events,
 * deliveries and attempts are ordinary rows that the dispatcher signs, retries and records like any
 * other, and the admin API reads them through the usual queries with this scope.
 */
export const operatorMerchantId = "operator";

/** The scope of operator endpoints, for the endpoint queries. */
export const operatorScope: Scope = { merchantId: operatorMerchantId };

export const operatorEventTypes = [
  "endpoint.disabled",
  "endpoint.enabled",
  "endpoint.failing",
  "delivery.exhausted",
  "recovery.finished",
] as const;
export type OperatorEventType = (typeof operatorEventTypes)[number];

export interface OperatorEvent {
  type: OperatorEventType;
  /** The mode of what it is about: it goes to the operator endpoints of that mode. */
  mode: Mode;
  data: Record<string, unknown>;
}

/**
 * Stores operator events and fans them out to the operator endpoints that want them, with their
 * first attempts queued, all in the caller's transaction: an event commits with the change it tells
 * of, or not at all. An event no operator endpoint wants is not stored. Written as any emit is
 * (`writeEmits`), dated `now`. Answers how many deliveries were queued.
 */
export async function emitOperatorEvents(
  db: Db,
  boss: PgBoss,
  events: OperatorEvent[],
  now: Date = new Date(),
): Promise<number> {
  if (events.length === 0) return 0;
  const endpoints = await fanoutEndpoints(db, operatorMerchantId, [...new Set(events.map((e) => e.mode))]);
  const wanted = events.filter((event) =>
    endpoints.some((ep) => ep.mode === event.mode && matchesEventType(ep.event_types, event.type)),
  );
  if (wanted.length === 0) return 0;
  const [results] = await writeEmits(db, boss, [
    prepareEmit({ merchantId: operatorMerchantId, requests: wanted }, now),
  ]);
  return results!.reduce((sum, result) => sum + result.deliveries, 0);
}

/**
 * Of these subjects, those not noted as `kind` within `windowMs` before `at` (ever, without a
 * window); notes them at `at`, which the caller also gives the events it sends about them, so the
 * window holds between the events' own times. Rate-limits notices that would otherwise repeat on
 * every failed attempt.
 */
export async function noteOnce(
  db: Db,
  kind: string,
  subjects: string[],
  windowMs?: number,
  at: Date = new Date(),
): Promise<string[]> {
  if (subjects.length === 0) return [];
  // In one order everywhere: two recorders noting the same subjects wait for each other, never deadlock.
  const sorted = [...new Set(subjects)].sort();
  const { rows } = await sql<{ subject_id: string }>`
    INSERT INTO operator_notices (subject_id, kind, sent_at)
    SELECT s, ${kind}, ${at}::timestamptz FROM unnest(${sorted}::text[]) AS s
    ON CONFLICT (subject_id, kind) DO UPDATE SET sent_at = excluded.sent_at
      WHERE ${windowMs ?? null}::float8 IS NOT NULL
        AND operator_notices.sent_at <= ${at}::timestamptz - make_interval(secs => ${windowMs ?? 0}::float8 / 1000)
    RETURNING subject_id
  `.execute(db);
  return rows.map((r) => r.subject_id);
}

/** What operator events say about endpoints: who they belong to and where they point. */
export function endpointFacts(db: Db, ids: string[]) {
  return db
    .selectFrom("endpoints")
    .select(["id", "merchant_id", "mode", "url", "failing_since", "disabled_reason"])
    .where("id", "in", ids)
    .where("merchant_id", "<>", operatorMerchantId)
    .execute();
}

/** What `delivery.exhausted` says about each delivery. */
export function deliveryFacts(db: Db, ids: string[]) {
  return db
    .selectFrom("deliveries")
    .select([
      "id",
      "merchant_id",
      "mode",
      "event_id",
      "event_type",
      "endpoint_id",
      "attempt_count",
      "last_status",
      "last_error",
    ])
    .where("id", "in", ids)
    .where("merchant_id", "<>", operatorMerchantId)
    .where("status", "=", "failed")
    .execute();
}

/**
 * The recover operations among those of these deliveries that are now finished (every delivery
 * succeeded or was tried again since the operation began), each answered once ever. The operations
 * are locked first, so two recorders finishing the last deliveries of one operation at once
 * cannot each see the other's as not done: the second counts after the first committed.
 */
export async function finishedOperations(db: Db, deliveryIds: string[]) {
  if (deliveryIds.length === 0) return [];
  const { rows: locked } = await sql<{ id: string }>`
    SELECT id FROM operations
    WHERE id IN (SELECT operation_id FROM operation_deliveries WHERE delivery_id = ANY(${deliveryIds}::text[]))
      AND merchant_id <> ${operatorMerchantId}
    ORDER BY id FOR UPDATE
  `.execute(db);
  if (locked.length === 0) return [];
  const { rows } = await sql<{
    id: string;
    merchant_id: string;
    mode: Mode;
    endpoint_id: string;
    total: number;
    succeeded: number;
  }>`
    SELECT o.id, o.merchant_id, o.mode, o.endpoint_id, count(*)::int AS total,
      count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded
    FROM operations o
    JOIN operation_deliveries od ON od.operation_id = o.id
    JOIN deliveries d ON d.id = od.delivery_id
    WHERE o.id = ANY(${locked.map((r) => r.id)}::text[])
    GROUP BY o.id
    HAVING count(*) = count(*) FILTER (WHERE d.status = 'succeeded' OR d.attempt_count > od.attempts_before)
  `.execute(db);
  const fresh = new Set(
    await noteOnce(
      db,
      "recovery.finished",
      rows.map((r) => r.id),
    ),
  );
  return rows.filter((r) => fresh.has(r.id));
}
