import { modes as allModes } from "@herald/core";
import { sql } from "kysely";
import type { Db } from "../connect.ts";
import type { Mode } from "../schema.ts";
import type { Scope } from "./endpoints.ts";
import type { StatsWindow } from "./stats.ts";
import { firstIdAt } from "./time-ids.ts";

/** Reads only the dashboard needs: chart series, pickers and the operator's system figures. */

export interface SeriesPoint {
  /** Start of the bucket, epoch seconds. */
  t: number;
  attempts: number;
  succeeded: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/**
 * One endpoint's attempts in fixed buckets over the window: count, successes and latency
 * percentiles. Walks the (endpoint_id, id) index between the window's ids, like deliveryStats.
 */
export async function attemptSeries(
  db: Db,
  endpointId: string,
  window: StatsWindow,
  bucketSeconds: number,
): Promise<SeriesPoint[]> {
  const { rows } = await sql<SeriesPoint>`
    SELECT (floor(extract(epoch FROM started_at) / ${bucketSeconds}) * ${bucketSeconds})::float8 AS t,
      count(*)::int AS attempts,
      count(*) FILTER (WHERE error IS NULL)::int AS succeeded,
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1)::float8 AS p50_ms,
      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1)::float8 AS p95_ms
    FROM attempts
    WHERE endpoint_id = ${endpointId}
      AND id >= ${firstIdAt("attempt", window.since)} AND id < ${firstIdAt("attempt", window.until)}
    GROUP BY 1 ORDER BY 1
  `.execute(db);
  return rows;
}

/**
 * The event types a merchant's events use, for the endpoint form's checkboxes. A loose index scan
 * over events_type (merchant_id, mode, type text_pattern_ops, id): one index probe per distinct
 * type, however many events a busy merchant has. `~>~` / `~<~` are the operators that opclass
 * orders by.
 */
export async function merchantEventTypes(db: Db, scope: Scope, limit = 100): Promise<string[]> {
  const modes: Mode[] = scope.mode ? [scope.mode] : [...allModes];
  const types = new Set<string>();
  for (const mode of modes) {
    const { rows } = await sql<{ type: string }>`
      WITH RECURSIVE seen(type) AS (
        (SELECT type FROM events WHERE merchant_id = ${scope.merchantId} AND mode = ${mode}
          ORDER BY type USING ~<~ LIMIT 1)
        UNION ALL
        SELECT (SELECT e.type FROM events e
                WHERE e.merchant_id = ${scope.merchantId} AND e.mode = ${mode} AND e.type ~>~ seen.type
                ORDER BY e.type USING ~<~ LIMIT 1)
        FROM seen WHERE seen.type IS NOT NULL
      )
      SELECT type FROM seen WHERE type IS NOT NULL LIMIT ${limit}
    `.execute(db);
    for (const row of rows) types.add(row.type);
  }
  return [...types].sort().slice(0, limit);
}

/** Undeleted merchants whose name or id contains `text`, newest first. */
export function searchMerchants(db: Db, text: string, limit: number) {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return db
    .selectFrom("merchants")
    .select(["id", "name", "created_at"])
    .where("deleted_at", "is", null)
    .where((eb) => eb.or([eb("name", "ilike", pattern), eb("id", "like", pattern)]))
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

export interface SystemFigures {
  windowSeconds: number;
  attempts: number;
  succeeded: number;
  /** Deliveries created (events fanned out to endpoints) in the window. */
  deliveries: number;
  pendingDeliveries: number;
  /** Seconds the oldest due delivery has been waiting past its time; 0 when none is late. */
  lagSeconds: number;
}

/** Across every merchant, over the last `windowSeconds`: what the system page headlines. */
export async function systemFigures(db: Db, windowSeconds: number): Promise<SystemFigures> {
  const since = new Date(Date.now() - windowSeconds * 1000);
  const { rows } = await sql<Omit<SystemFigures, "windowSeconds">>`
    SELECT
      (SELECT count(*)::int FROM attempts WHERE id >= ${firstIdAt("attempt", since)}) AS attempts,
      (SELECT count(*)::int FROM attempts WHERE id >= ${firstIdAt("attempt", since)} AND error IS NULL) AS succeeded,
      (SELECT count(*)::int FROM deliveries WHERE id >= ${firstIdAt("delivery", since)}) AS deliveries,
      (SELECT count(*)::int FROM deliveries WHERE status = 'pending') AS "pendingDeliveries",
      (SELECT coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)::float8
         FROM deliveries WHERE status = 'pending' AND next_attempt_at < now()) AS "lagSeconds"
  `.execute(db);
  return { windowSeconds, ...rows[0]! };
}

/** Endpoints failing or disabled, across merchants, those failing longest first. */
export function troubledEndpoints(db: Db, limit: number) {
  return db
    .selectFrom("endpoints")
    .innerJoin("merchants", "merchants.id", "endpoints.merchant_id")
    .select([
      "endpoints.id",
      "endpoints.merchant_id",
      "merchants.name as merchant_name",
      "endpoints.mode",
      "endpoints.url",
      "endpoints.enabled",
      "endpoints.disabled_reason",
      "endpoints.failing_since",
    ])
    .where("endpoints.deleted_at", "is", null)
    .where("merchants.deleted_at", "is", null)
    .where((eb) =>
      eb.or([eb("endpoints.enabled", "=", false), eb("endpoints.failing_since", "is not", null)]),
    )
    .orderBy("endpoints.failing_since", (ob) => ob.asc().nullsLast())
    .limit(limit)
    .execute();
}

/** The latest recovery operations, across merchants. */
export function recentOperations(db: Db, limit: number) {
  return db
    .selectFrom("operations")
    .select(["id", "merchant_id", "mode", "kind", "endpoint_id", "since", "until", "created_at"])
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}
