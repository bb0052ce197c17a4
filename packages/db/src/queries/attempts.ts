import type { Db } from "../connect.ts";
import { type PageRequest, page } from "./page.ts";

/**
 * An endpoint's attempts, with their delivery's event, in the order of attempts_endpoint
 * (endpoint_id, id). The endpoint is matched as a one-value range rather than with `=`, and the
 * order names the index's whole key: with `=` Postgres drops endpoint_id from the order as a
 * constant, and may then walk the primary key backwards instead, hoping this endpoint's attempts
 * are spread evenly through time. For an endpoint that has gone quiet that reads every newer
 * attempt of every other endpoint before finding one of its own.
 */
export function endpointAttempts(db: Db, endpointId: string) {
  return db
    .selectFrom("attempts as a")
    .innerJoin("deliveries as d", "d.id", "a.delivery_id")
    .selectAll("a")
    .select(["d.event_id", "d.event_type"])
    .where("a.endpoint_id", ">=", endpointId)
    .where("a.endpoint_id", "<=", endpointId)
    .orderBy("a.endpoint_id", "desc");
}

/**
 * A page of an endpoint's attempts, newest first: attempts_endpoint walked backwards from the
 * cursor, one page long, so the cost does not grow with the table; each row's delivery is one
 * primary-key lookup.
 */
export function listEndpointAttempts(db: Db, endpointId: string, request: PageRequest) {
  return page(endpointAttempts(db, endpointId), "a.id", request);
}
