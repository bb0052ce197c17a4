import { envelopeBody, matchesEventType, newId } from "@herald/core";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import type { Db } from "../connect.ts";
import { attemptJob, attemptQueue, bossExecutor } from "../queue.ts";
import type { Mode } from "../schema.ts";
import { fanoutEndpoints } from "./endpoints.ts";
import { type PageRequest, page } from "./page.ts";

export interface EmitRequest {
  type: string;
  data: unknown;
  mode: Mode;
  idempotencyKey?: string | undefined;
  /** Hash of what the client sent under that key, so a different body under the same key is caught. */
  requestHash?: Buffer | undefined;
}

export interface EmitResult {
  id: string;
  type: string;
  created_at: string;
  deliveries: number;
  /** True when an earlier emit with the same idempotency key answered instead. */
  replayed: boolean;
  /** True when the key was used before with a different request. */
  conflict: boolean;
}

/**
 * Stores events and fans each out: one delivery per matching enabled endpoint of the same mode, and
 * each delivery's first attempt as a runnable job. Events, deliveries and jobs commit together in
 * one transaction, so a crash leaves either nothing or events fully scheduled. An idempotency key
 * already used by the merchant answers with the first event and creates nothing.
 */
export async function emitEvents(
  db: Db,
  boss: PgBoss,
  merchantId: string,
  requests: EmitRequest[],
): Promise<EmitResult[]> {
  const modes = [...new Set(requests.map((r) => r.mode))];
  const endpoints = await fanoutEndpoints(db, merchantId, modes);
  const now = new Date();
  const createdAt = now.toISOString();
  const events = requests.map((request) => {
    const id = newId("event", now.getTime());
    const targets = endpoints.filter(
      (ep) => ep.mode === request.mode && matchesEventType(ep.event_types, request.type),
    );
    return {
      request,
      row: {
        id,
        mode: request.mode,
        type: request.type,
        body: envelopeBody({ id, type: request.type, created_at: createdAt, data: request.data }),
        idempotency_key: request.idempotencyKey ?? null,
        request_hash: request.requestHash?.toString("hex") ?? null,
      },
      deliveries: targets.map((ep) => ({ id: newId("delivery", now.getTime()), event_id: id, endpoint: ep })),
    };
  });

  const inserted = await db.transaction().execute(async (trx) => {
    // One statement for every event and its deliveries: an event whose idempotency key is taken
    // inserts nothing, and neither do its deliveries.
    const deliveryRows = events.flatMap((e) =>
      e.deliveries.map((d) => ({
        id: d.id,
        event_id: d.event_id,
        endpoint_id: d.endpoint.id,
        mode: e.row.mode,
        event_type: e.row.type,
      })),
    );
    const { rows } = await sql<{ event_id: string; delivery_id: string | null }>`
      WITH new_events AS (
        INSERT INTO events (id, merchant_id, mode, type, body, idempotency_key, request_hash, created_at)
        SELECT e.id, ${merchantId}, e.mode, e.type, e.body, e.idempotency_key, decode(e.request_hash, 'hex'), ${now}
        FROM jsonb_to_recordset(${JSON.stringify(events.map((e) => e.row))}::jsonb)
          AS e(id text, mode text, type text, body text, idempotency_key text, request_hash text)
        ON CONFLICT (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id
      ), new_deliveries AS (
        INSERT INTO deliveries (id, merchant_id, mode, event_id, endpoint_id, event_type, next_attempt_at, created_at)
        SELECT d.id, ${merchantId}, d.mode, d.event_id, d.endpoint_id, d.event_type, ${now}, ${now}
        FROM jsonb_to_recordset(${JSON.stringify(deliveryRows)}::jsonb)
          AS d(id text, event_id text, endpoint_id text, mode text, event_type text)
        WHERE d.event_id IN (SELECT id FROM new_events)
        RETURNING id, event_id
      )
      SELECT ne.id AS event_id, nd.id AS delivery_id
      FROM new_events ne LEFT JOIN new_deliveries nd ON nd.event_id = ne.id
    `.execute(trx);
    const insertedEvents = new Set(rows.map((r) => r.event_id));
    const jobs = events
      .filter((e) => insertedEvents.has(e.row.id))
      .flatMap((e) =>
        e.deliveries.map((d) =>
          attemptJob(
            {
              delivery_id: d.id,
              trigger: "scheduled",
              scheduled_at: createdAt,
              endpoint_id: d.endpoint.id,
              timeout_ms: d.endpoint.timeout_ms,
            },
            now,
          ),
        ),
      );
    if (jobs.length > 0) await boss.insert(attemptQueue, jobs, { db: bossExecutor(trx) });
    return insertedEvents;
  });

  const replays = events.filter((e) => !inserted.has(e.row.id));
  const earlier =
    replays.length > 0
      ? await findByIdempotencyKeys(
          db,
          merchantId,
          replays.map((e) => e.row.idempotency_key!),
        )
      : [];
  return events.map((e): EmitResult => {
    if (inserted.has(e.row.id)) {
      return {
        id: e.row.id,
        type: e.row.type,
        created_at: createdAt,
        deliveries: e.deliveries.length,
        replayed: false,
        conflict: false,
      };
    }
    const first = earlier.find((row) => row.idempotency_key === e.row.idempotency_key)!;
    return {
      id: first.id,
      type: first.type,
      created_at: first.created_at.toISOString(),
      deliveries: first.deliveries,
      replayed: true,
      conflict: first.request_hash?.toString("hex") !== e.row.request_hash,
    };
  });
}

function findByIdempotencyKeys(db: Db, merchantId: string, keys: string[]) {
  return db
    .selectFrom("events")
    .select(["id", "type", "created_at", "idempotency_key", "request_hash"])
    .select((eb) =>
      eb
        .selectFrom("deliveries")
        .select(eb.fn.countAll<number>().as("n"))
        .whereRef("deliveries.event_id", "=", "events.id")
        .as("deliveries"),
    )
    .where("merchant_id", "=", merchantId)
    .where("idempotency_key", "in", keys)
    .execute()
    .then((rows) => rows.map((row) => ({ ...row, deliveries: Number(row.deliveries) })));
}

export interface EventFilter {
  merchantId: string;
  mode?: Mode | undefined;
  /** An exact type, or a prefix ending in `.*`. */
  type?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

function eventsQuery(db: Db, filter: EventFilter) {
  let query = db
    .selectFrom("events")
    .select(["id", "mode", "type", "body", "created_at"])
    .where("merchant_id", "=", filter.merchantId);
  if (filter.mode) query = query.where("mode", "=", filter.mode);
  if (filter.type?.endsWith(".*"))
    query = query.where("type", "like", `${filter.type.slice(0, -1).replace(/[\\%_]/g, "\\$&")}%`);
  else if (filter.type) query = query.where("type", "=", filter.type);
  if (filter.since) query = query.where("created_at", ">=", filter.since);
  if (filter.until) query = query.where("created_at", "<", filter.until);
  return query;
}

export function listEvents(db: Db, filter: EventFilter, request: PageRequest) {
  return page(eventsQuery(db, filter), "id", request);
}

export function getEvent(db: Db, filter: EventFilter, id: string) {
  return eventsQuery(db, filter).where("id", "=", id).executeTakeFirst();
}
