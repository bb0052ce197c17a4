import { createHash } from "node:crypto";
import { envelopeBody, matchesEventType, newId } from "@herald/core";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import type { Db } from "../connect.ts";
import { attemptJob, attemptQueue, bossExecutor, composableJobInsert } from "../queue.ts";
import type { Mode } from "../schema.ts";
import { fanoutEndpoints } from "./endpoints.ts";
import { type PageRequest, page } from "./page.ts";

export interface EmitRequest {
  type: string;
  data: unknown;
  mode: Mode;
  idempotencyKey?: string | undefined;
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

/** What an idempotency key answers with: the event that first took it. */
interface KeyOwner {
  id: string;
  type: string;
  created_at: string;
  deliveries: number;
  requestHash: string | null;
}

/** One emit request's events, all of one merchant: a single emit is a batch of one. */
export interface EmitBatch {
  merchantId: string;
  requests: EmitRequest[];
}

/**
 * A batch made ready to write: ids, envelope bytes and request hashes fixed once, so writing it
 * again after a failed transaction stores the same events (a write that did commit after all
 * collides on the event ids instead of storing a second copy).
 */
export interface PreparedBatch {
  merchantId: string;
  now: Date;
  events: PreparedEvent[];
}

interface PreparedEvent {
  request: EmitRequest;
  key: string | undefined;
  /** False for a key an earlier event of the same batch already uses: it answers like a replay. */
  tryInsert: boolean;
  row: {
    id: string;
    merchant_id: string;
    mode: Mode;
    type: string;
    body: string;
    idempotency_key: string | null;
    request_hash: string | null;
  };
}

export function prepareEmit({ merchantId, requests }: EmitBatch, now: Date = new Date()): PreparedBatch {
  const createdAt = now.toISOString();
  const keysTaken = new Set<string>();
  const events = requests.map((request): PreparedEvent => {
    const key = request.idempotencyKey;
    const tryInsert = key === undefined || !keysTaken.has(keyOf(request.mode, key));
    if (key !== undefined) keysTaken.add(keyOf(request.mode, key));
    const id = newId("event", now.getTime());
    return {
      request,
      key,
      tryInsert,
      row: {
        id,
        merchant_id: merchantId,
        mode: request.mode,
        type: request.type,
        body: envelopeBody({ id, type: request.type, created_at: createdAt, data: request.data }),
        idempotency_key: key ?? null,
        request_hash: key === undefined ? null : requestHash(request),
      },
    };
  });
  return { merchantId, now, events };
}

/**
 * Stores events and fans each out: one delivery per matching enabled endpoint of the same mode, and
 * each delivery's first attempt as a runnable job. Events, deliveries and jobs of every batch given
 * (any merchants) commit together in one transaction, so a crash leaves either nothing or events
 * fully scheduled. An idempotency key already used by the merchant in that mode, earlier or by a
 * previous request of the same batch, answers with the first event and creates nothing; so does a
 * key another batch of the same write takes first. Answers one result list per batch, in order.
 *
 * Round trips: the fan-out endpoints (one per merchant, in parallel), then one statement for
 * events, deliveries and their jobs (pg-boss's own insert, nested). Replays add one lookup.
 */
export async function writeEmits(db: Db, boss: PgBoss, batches: PreparedBatch[]): Promise<EmitResult[][]> {
  const endpointsOf = new Map(
    await Promise.all(
      [...new Set(batches.map((b) => b.merchantId))].map(async (merchantId) => {
        const modes = [
          ...new Set(
            batches.flatMap((b) => (b.merchantId === merchantId ? b.events.map((e) => e.row.mode) : [])),
          ),
        ];
        return [merchantId, await fanoutEndpoints(db, merchantId, modes)] as const;
      }),
    ),
  );
  // Across batches a key is tried by its first user only, as within one.
  const keysTaken = new Set<string>();
  const planned = batches.map((batch) =>
    batch.events.map((e) => {
      const owner = e.key === undefined ? undefined : `${batch.merchantId} ${keyOf(e.row.mode, e.key)}`;
      const tryInsert = e.tryInsert && (owner === undefined || !keysTaken.has(owner));
      if (owner !== undefined) keysTaken.add(owner);
      const targets = endpointsOf
        .get(batch.merchantId)!
        .filter((ep) => ep.mode === e.row.mode && matchesEventType(ep.event_types, e.row.type));
      return {
        ...e,
        tryInsert,
        now: batch.now,
        deliveries: targets.map((ep) => ({ id: newId("delivery", batch.now.getTime()), endpoint: ep })),
      };
    }),
  );
  // Rows in key order: two writes taking the same keys wait for each other instead of deadlocking.
  const candidates = planned
    .flat()
    .filter((e) => e.tryInsert)
    .sort((a, b) => compare(a.row.idempotency_key ?? "", b.row.idempotency_key ?? ""));

  const jobs = candidates.flatMap((e) =>
    e.deliveries.map((d) => attemptJob(d.id, d.endpoint, "scheduled", e.now)),
  );
  // pg-boss's job insert, nested in the same statement when it can be: one statement is its own
  // transaction, so events, deliveries and jobs commit together in one round trip.
  const jobInsert = jobs.length > 0 ? await composableJobInsert(boss, jobs) : undefined;

  const insertEvents = async (executor: Db) => {
    // One statement for every event and its deliveries: an event whose idempotency key is taken
    // inserts nothing, and neither do its deliveries (nor, when nested here, their jobs).
    const eventRows = candidates.map((e) => ({ ...e.row, created_at: e.now.toISOString() }));
    const deliveryRows = candidates.flatMap((e) =>
      e.deliveries.map((d) => ({
        id: d.id,
        merchant_id: e.row.merchant_id,
        event_id: e.row.id,
        endpoint_id: d.endpoint.id,
        mode: e.row.mode,
        event_type: e.row.type,
        created_at: e.now.toISOString(),
      })),
    );
    const newJobs = jobInsert
      ? sql`, new_jobs AS (${sql.raw(jobInsert.before)}(
          SELECT coalesce(json_agg(j), '[]'::json) FROM json_array_elements(${jobInsert.payload}::json) AS j
          WHERE j->'data'->>'delivery_id' IN (SELECT id FROM new_deliveries)
        )${sql.raw(jobInsert.after)})`
      : sql``;
    const { rows } = await sql<{ id: string }>`
      WITH new_events AS (
        INSERT INTO events (id, merchant_id, mode, type, body, idempotency_key, request_hash, created_at)
        SELECT e.id, e.merchant_id, e.mode, e.type, e.body, e.idempotency_key, decode(e.request_hash, 'hex'), e.created_at
        FROM jsonb_to_recordset(${JSON.stringify(eventRows)}::jsonb)
          AS e(id text, merchant_id text, mode text, type text, body text, idempotency_key text, request_hash text,
               created_at timestamptz)
        ON CONFLICT (merchant_id, mode, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id
      ), new_deliveries AS (
        INSERT INTO deliveries (id, merchant_id, mode, event_id, endpoint_id, event_type, next_attempt_at, created_at)
        SELECT d.id, d.merchant_id, d.mode, d.event_id, d.endpoint_id, d.event_type, d.created_at, d.created_at
        FROM jsonb_to_recordset(${JSON.stringify(deliveryRows)}::jsonb)
          AS d(id text, merchant_id text, event_id text, endpoint_id text, mode text, event_type text,
               created_at timestamptz)
        WHERE d.event_id IN (SELECT id FROM new_events)
        RETURNING id
      )${newJobs}
      SELECT id FROM new_events
    `.execute(executor);
    return new Set(rows.map((r) => r.id));
  };

  // Without a job to schedule, or with the jobs nested, the one statement is its own transaction:
  // BEGIN and COMMIT would only add two round trips.
  const insertWithJobs = async (trx: Db) => {
    const ids = await insertEvents(trx);
    const due = candidates
      .filter((e) => ids.has(e.row.id))
      .flatMap((e) => e.deliveries.map((d) => attemptJob(d.id, d.endpoint, "scheduled", e.now)));
    if (due.length > 0) await boss.insert(attemptQueue, due, { db: bossExecutor(trx) });
    return ids;
  };
  // Within a caller's transaction (operator events), its transaction is the one.
  const inserted =
    jobs.length > 0 && !jobInsert
      ? db.isTransaction
        ? await insertWithJobs(db)
        : await db.transaction().execute(insertWithJobs)
      : await insertEvents(db);

  const owners = new Map<string, KeyOwner>();
  for (const e of candidates) {
    if (e.key !== undefined && inserted.has(e.row.id)) {
      owners.set(`${e.row.merchant_id} ${keyOf(e.row.mode, e.key)}`, {
        id: e.row.id,
        type: e.row.type,
        created_at: e.now.toISOString(),
        deliveries: e.deliveries.length,
        requestHash: e.row.request_hash,
      });
    }
  }
  const earlier = planned.flat().filter((e) => e.key !== undefined && !inserted.has(e.row.id));
  if (earlier.length > 0) {
    for (const owner of await findByIdempotencyKeys(db, earlier)) {
      const at = `${owner.merchant_id} ${keyOf(owner.mode, owner.idempotency_key!)}`;
      if (owners.has(at)) continue;
      owners.set(at, {
        id: owner.id,
        type: owner.type,
        created_at: owner.created_at.toISOString(),
        deliveries: owner.deliveries,
        requestHash: owner.request_hash?.toString("hex") ?? null,
      });
    }
  }

  return planned.map((events) =>
    events.map((e): EmitResult => {
      if (inserted.has(e.row.id)) {
        return {
          id: e.row.id,
          type: e.row.type,
          created_at: e.now.toISOString(),
          deliveries: e.deliveries.length,
          replayed: false,
          conflict: false,
        };
      }
      const owner = owners.get(`${e.row.merchant_id} ${keyOf(e.row.mode, e.key!)}`);
      // Only retention deletes events, and it would have to strike between the insert and this read.
      if (!owner) throw new Error(`the event holding idempotency key ${JSON.stringify(e.key)} vanished`);
      return {
        id: owner.id,
        type: owner.type,
        created_at: owner.created_at,
        deliveries: owner.deliveries,
        replayed: true,
        conflict: owner.requestHash !== e.row.request_hash,
      };
    }),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * What a repeated key is compared by: the mode, type and data the event would carry. The data's key
 * order counts, since it changes the delivered bytes; where the fields sat in the request does not.
 */
function requestHash(request: EmitRequest): string {
  return createHash("sha256")
    .update(JSON.stringify([request.mode, request.type, request.data]))
    .digest("hex");
}

/** Keys are unique per merchant and mode: a test emit never sees, nor takes, a live emit's key. */
const keyOf = (mode: Mode, key: string) => `${mode} ${key}`;

function findByIdempotencyKeys(db: Db, events: { row: { merchant_id: string; mode: Mode }; key?: string }[]) {
  return (
    db
      .selectFrom("events")
      .select(["id", "merchant_id", "mode", "type", "created_at", "idempotency_key", "request_hash"])
      .select((eb) =>
        eb
          .selectFrom("deliveries")
          .select(eb.fn.countAll<number>().as("n"))
          .whereRef("deliveries.event_id", "=", "events.id")
          .as("deliveries"),
      )
      // Rows of another merchant or mode may come back (a key used there too); callers look owners
      // up by merchant, mode and key, so such rows are never answered to anyone.
      .where("merchant_id", "in", [...new Set(events.map((e) => e.row.merchant_id))])
      .where("mode", "in", [...new Set(events.map((e) => e.row.mode))])
      .where("idempotency_key", "in", [...new Set(events.map((e) => e.key!))])
      .execute()
      .then((rows) => rows.map((row) => ({ ...row, deliveries: Number(row.deliveries) })))
  );
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

/**
 * One event Herald makes itself (a test send), enveloped as an emitted one is, with no idempotency
 * key to honour. Runs in the caller's transaction, beside the delivery it is made for.
 */
export async function insertEvent(
  db: Db,
  event: { merchant_id: string; mode: Mode; type: string; data: unknown },
  now: Date,
): Promise<{ id: string; body: string }> {
  const id = newId("event", now.getTime());
  const body = envelopeBody({ id, type: event.type, created_at: now.toISOString(), data: event.data });
  await db
    .insertInto("events")
    .values({
      id,
      merchant_id: event.merchant_id,
      mode: event.mode,
      type: event.type,
      body,
      idempotency_key: null,
      request_hash: null,
      created_at: now,
    })
    .execute();
  return { id, body };
}
