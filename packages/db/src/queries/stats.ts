import { sql } from "kysely";
import type { Db } from "../connect.ts";
import type { Mode } from "../schema.ts";
import { firstIdAt } from "./time-ids.ts";

export interface StatsWindow {
  since: Date;
  until: Date;
}

export interface DeliveryStats {
  attempts: {
    total: number;
    succeeded: number;
    failed: number;
    /** Milliseconds, to a tenth; null when there was no attempt. */
    latency_p50_ms: number | null;
    latency_p95_ms: number | null;
  };
  /** Deliveries created in the window, by their status now. */
  deliveries: { total: number; pending: number; succeeded: number; failed: number; cancelled: number };
}

/**
 * Attempts made and deliveries created in the window, over a set of endpoints. Both walk an index
 * on (endpoint_id, id) between the ids of the window's ends (ids lead with their creation time), so
 * the cost follows the rows in the window, not the table.
 */
export async function deliveryStats(
  db: Db,
  endpointIds: string[],
  window: StatsWindow,
): Promise<DeliveryStats> {
  if (endpointIds.length === 0) {
    return {
      attempts: { total: 0, succeeded: 0, failed: 0, latency_p50_ms: null, latency_p95_ms: null },
      deliveries: { total: 0, pending: 0, succeeded: 0, failed: 0, cancelled: 0 },
    };
  }
  // One statement, so both halves read the same snapshot: a delivery counted as succeeded always
  // has its attempt counted too. The dispatcher records an error class on every attempt that did
  // not succeed, and none otherwise.
  const { rows } = await sql<{
    attempts: DeliveryStats["attempts"];
    deliveries: DeliveryStats["deliveries"];
  }>`
    SELECT to_jsonb(a) AS attempts, to_jsonb(d) AS deliveries
    FROM (
      SELECT count(*)::int AS total,
        count(*) FILTER (WHERE error IS NULL)::int AS succeeded,
        count(*) FILTER (WHERE error IS NOT NULL)::int AS failed,
        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1)::float8 AS latency_p50_ms,
        round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1)::float8 AS latency_p95_ms
      FROM attempts
      WHERE endpoint_id = ANY(${endpointIds})
        AND id >= ${firstIdAt("attempt", window.since)} AND id < ${firstIdAt("attempt", window.until)}
    ) a, (
      SELECT count(*)::int AS total,
        count(*) FILTER (WHERE status = 'pending')::int AS pending,
        count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
        count(*) FILTER (WHERE status = 'failed')::int AS failed,
        count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled
      FROM deliveries
      WHERE endpoint_id = ANY(${endpointIds})
        AND id >= ${firstIdAt("delivery", window.since)} AND id < ${firstIdAt("delivery", window.until)}
    ) d
  `.execute(db);
  return rows[0]!;
}

/** Every endpoint a merchant has had in a mode (or both), deleted ones included: their history counts. */
export async function merchantEndpointIds(
  db: Db,
  merchantId: string,
  mode: Mode | undefined,
): Promise<string[]> {
  let query = db.selectFrom("endpoints").select("id").where("merchant_id", "=", merchantId);
  if (mode) query = query.where("mode", "=", mode);
  return (await query.execute()).map((e) => e.id);
}

/** Deliveries not yet settled, across every merchant: read from the small deliveries_pending_order index. */
export async function countPendingDeliveries(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'
  `.execute(db);
  return rows[0]!.n;
}
