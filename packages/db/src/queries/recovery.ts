import { newId } from "@herald/core";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import type { Db } from "../connect.ts";
import { attemptJob, attemptPriority, attemptQueue, bossExecutor } from "../queue.ts";
import type { Mode, OperationKind } from "../schema.ts";
import { insertDeliveries } from "./deliveries.ts";
import type { Scope } from "./endpoints.ts";

/** What an off-schedule attempt needs to know about its endpoint. */
export interface TargetEndpoint {
  id: string;
  timeout_ms: number;
}

/**
 * Queues one manual attempt of a delivery, runnable now. Touching `updated_at` keeps retention
 * from deleting the delivery while its attempt waits.
 */
export function retryDelivery(db: Db, boss: PgBoss, deliveryId: string, endpoint: TargetEndpoint) {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    const delivery = await trx
      .updateTable("deliveries")
      .set({ updated_at: now })
      .where("id", "=", deliveryId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await boss.insert(attemptQueue, [attemptJob(deliveryId, endpoint, "manual", now)], {
      db: bossExecutor(trx),
    });
    return delivery;
  });
}

export interface ResentDelivery {
  delivery_id: string;
  endpoint_id: string;
  /** True when the endpoint had no delivery of this event, so a new one was made. */
  created: boolean;
}

/**
 * Sends an event again to each endpoint: a manual attempt of its existing delivery, or, for an
 * endpoint that never had one (it was added or re-enabled later), a new delivery on that endpoint's
 * own retry schedule.
 */
export function resendEvent(
  db: Db,
  boss: PgBoss,
  event: { id: string; merchant_id: string; mode: Mode; type: string },
  endpoints: TargetEndpoint[],
): Promise<ResentDelivery[]> {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    const existing = await touchDeliveries(
      trx,
      event.id,
      endpoints.map((e) => e.id),
      now,
    );
    let resent = endpoints.map((e) => {
      const deliveryId = existing.get(e.id);
      return deliveryId
        ? { delivery_id: deliveryId, endpoint: e, created: false }
        : { delivery_id: newId("delivery", now.getTime()), endpoint: e, created: true };
    });
    const fresh = resent.filter((r) => r.created);
    if (fresh.length > 0) {
      // One delivery per (event, endpoint): a resend racing this one may have just made it. Its
      // insert wins; this resend then becomes a manual attempt of that delivery.
      const made = await insertDeliveries(
        trx,
        fresh.map((r) => ({
          id: r.delivery_id,
          merchant_id: event.merchant_id,
          mode: event.mode,
          event_id: event.id,
          endpoint_id: r.endpoint.id,
          event_type: event.type,
          created_at: now,
        })),
      );
      if (made.size < fresh.length) {
        const winner = await touchDeliveries(
          trx,
          event.id,
          fresh.filter((r) => !made.has(r.endpoint.id)).map((r) => r.endpoint.id),
          now,
        );
        resent = resent.map((r) =>
          r.created && winner.has(r.endpoint.id)
            ? { delivery_id: winner.get(r.endpoint.id)!, endpoint: r.endpoint, created: false }
            : r,
        );
      }
    }
    if (resent.length > 0) {
      const jobs = resent.map((r) =>
        r.created
          ? attemptJob(r.delivery_id, r.endpoint, "scheduled", now)
          : attemptJob(r.delivery_id, r.endpoint, "manual", now),
      );
      await boss.insert(attemptQueue, jobs, { db: bossExecutor(trx) });
    }
    return resent.map((r) => ({
      delivery_id: r.delivery_id,
      endpoint_id: r.endpoint.id,
      created: r.created,
    }));
  });
}

/** The event's deliveries to these endpoints (one each), touched: endpoint id → delivery id. */
async function touchDeliveries(db: Db, eventId: string, endpointIds: string[], now: Date) {
  if (endpointIds.length === 0) return new Map<string, string>();
  const rows = await db
    .updateTable("deliveries")
    .set({ updated_at: now })
    .where("event_id", "=", eventId)
    .where("endpoint_id", "in", endpointIds)
    .returning(["id", "endpoint_id"])
    .execute();
  return new Map(rows.map((d) => [d.endpoint_id, d.id]));
}

// pg-boss inserts jobs from one JSON parameter; this keeps each statement modest.
const jobChunk = 1000;

/**
 * Starts recovering an endpoint: every delivery of it that failed and was created in [since, until)
 * gets one manual attempt. The set is fixed now, in the same transaction that queues the attempts,
 * so the operation's progress always counts against the same deliveries.
 */
export function startRecovery(
  db: Db,
  boss: PgBoss,
  input: {
    merchantId: string;
    mode: Mode;
    endpoint: TargetEndpoint;
    since: Date;
    until: Date;
  },
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    const operationId = newId("operation", now.getTime());
    await trx
      .insertInto("operations")
      .values({
        id: operationId,
        merchant_id: input.merchantId,
        mode: input.mode,
        kind: "endpoint.recover",
        endpoint_id: input.endpoint.id,
        since: input.since,
        until: input.until,
        created_at: now,
      })
      .execute();
    // Served by deliveries_endpoint_failed (endpoint_id, created_at) WHERE status = 'failed'.
    const { rows } = await sql<{ delivery_id: string }>`
      INSERT INTO operation_deliveries (operation_id, delivery_id, attempts_before)
      SELECT ${operationId}, id, attempt_count FROM deliveries
      WHERE endpoint_id = ${input.endpoint.id} AND status = 'failed'
        AND created_at >= ${input.since} AND created_at < ${input.until}
      RETURNING delivery_id
    `.execute(trx);
    for (let i = 0; i < rows.length; i += jobChunk) {
      const jobs = rows
        .slice(i, i + jobChunk)
        .map((r) => attemptJob(r.delivery_id, input.endpoint, "manual", now, attemptPriority.recovery));
      await boss.insert(attemptQueue, jobs, { db: bossExecutor(trx) });
    }
    return operationId;
  });
}

export interface OperationProgress {
  id: string;
  kind: OperationKind;
  mode: Mode;
  endpoint_id: string;
  since: Date;
  until: Date;
  created_at: Date;
  endpoint_active: boolean;
  total: number;
  succeeded: number;
  failed: number;
}

/**
 * An operation and how far it got, read from its deliveries as they are now: one that succeeded is
 * done and succeeded; one attempted since the operation began (its attempt count passed the count it
 * had then) and still not succeeded is done and failed.
 */
export async function getOperation(db: Db, scope: Scope, id: string): Promise<OperationProgress | undefined> {
  const { rows } = await sql<OperationProgress>`
    SELECT o.id, o.kind, o.mode, o.endpoint_id, o.since, o.until, o.created_at,
      (ep.enabled AND ep.deleted_at IS NULL) AS endpoint_active,
      p.total, p.succeeded, p.failed
    FROM operations o
    JOIN endpoints ep ON ep.id = o.endpoint_id
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS total,
        count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded,
        count(*) FILTER (WHERE d.status <> 'succeeded' AND d.attempt_count > od.attempts_before)::int AS failed
      FROM operation_deliveries od JOIN deliveries d ON d.id = od.delivery_id
      WHERE od.operation_id = o.id
    ) p
    WHERE o.id = ${id} AND o.merchant_id = ${scope.merchantId}
      ${scope.mode ? sql`AND o.mode = ${scope.mode}` : sql``}
  `.execute(db);
  return rows[0];
}
