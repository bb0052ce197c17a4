// The one fixture an end-to-end test starts from: a started Herald, a receiver with options, a
// merchant with an endpoint. What a test sets up beyond this is what its scenario is about.
import { sql } from "kysely";
import { afterAll, beforeAll } from "vitest";
import { createEndpoint, createMerchant, eventually, startTestHerald, type TestHerald } from "./herald.ts";
import { Receiver, type ReceiverOptions, type Responder } from "./receiver.ts";

export {
  attemptsRecorded,
  deliveryOf,
  emit,
  scheduledOffsets,
  settledDelivery,
  warmUp,
} from "./deliveries.ts";
export {
  type ApiAnswer,
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "./herald.ts";
export { type Answer, type Received, Receiver, type ReceiverOptions, type Responder } from "./receiver.ts";

export interface HeraldOptions {
  /**
   * Configuration, exactly as the environment would set it; or a function answering it when the
   * Herald starts, for values known only then (the address of a server an earlier `beforeAll` started).
   */
  env?: Record<string, string> | (() => Record<string, string>);
  /** false: the API alone, for tests that run dispatchers as processes or need none. */
  dispatcher?: boolean;
  /** How the file's receiver answers; it answers 200 at once when left out. */
  receiver?: Responder | ReceiverOptions;
}

export interface Scene {
  readonly herald: TestHerald;
  readonly receiver: Receiver;
}

/**
 * Starts a Herald and a receiver before the tests of the `describe` it is called in, and stops them
 * after. Read `herald` and `receiver` inside the tests (they exist once `beforeAll` has run).
 */
export function useHerald(options: HeraldOptions = {}): Scene {
  const scene: { herald?: TestHerald; receiver?: Receiver } = {};
  beforeAll(async () => {
    const given = typeof options.env === "function" ? options.env() : options.env;
    const env = { ...given, ...(options.dispatcher === false && { HERALD_TEST_NO_DISPATCHER: "1" }) };
    scene.herald = await startTestHerald(env);
    scene.receiver = await Receiver.start(options.receiver);
  });
  afterAll(async () => {
    await scene.herald?.stop();
    await scene.receiver?.close();
  });
  return {
    get herald() {
      if (!scene.herald) throw new Error("useHerald: read herald inside a test, after beforeAll");
      return scene.herald;
    },
    get receiver() {
      if (!scene.receiver) throw new Error("useHerald: read receiver inside a test, after beforeAll");
      return scene.receiver;
    },
  };
}

/**
 * Receivers a test starts for itself, closed after the `describe` it is called in: for scenarios
 * that need several, or one that answers differently from the file's.
 */
export function useReceivers(): (options?: Responder | ReceiverOptions) => Promise<Receiver> {
  const started: Receiver[] = [];
  afterAll(async () => {
    await Promise.all(started.map((receiver) => receiver.close()));
  });
  return async (options) => {
    const receiver = await Receiver.start(options);
    started.push(receiver);
    return receiver;
  };
}

/** A merchant with one endpoint (test mode unless `fields` say otherwise). */
export async function merchantWithEndpoint(
  herald: TestHerald,
  fields: { url: string; [field: string]: unknown },
  name = "Acme",
) {
  const merchant = await createMerchant(herald, name);
  const endpoint = await createEndpoint(herald, merchant, fields);
  return { merchant, endpoint };
}

/** Emits `count` test events in one batch call; answers their ids in order. */
export async function emitBatch(
  herald: TestHerald,
  merchant: string,
  count: number,
  type = "payment.succeeded",
): Promise<string[]> {
  const answer = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
    events: Array.from({ length: count }, (_, i) => ({ type, mode: "test", data: { i } })),
  });
  if (answer.status >= 300) throw new Error(`batch: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.data.map((event: { id: string }) => event.id);
}

/** The pg-boss states of every job of `deliveryId`'s attempts, oldest first. */
export async function attemptJobStates(herald: TestHerald, deliveryId: string): Promise<string[]> {
  const { rows } = await sql<{ state: string }>`
    SELECT state FROM pgboss.job
    WHERE name = 'attempts' AND data->>'delivery_id' = ${deliveryId}
    ORDER BY created_on`.execute(herald.database.db);
  return rows.map((row) => row.state);
}

/**
 * Waits until no attempt of `deliveryId` is queued or running: every job the dispatcher was given
 * for it has been taken and finished. What a test then sees on the receiver is final, with no sleep
 * to guess how long "nothing more happens" takes.
 */
export function queueDrainedFor(herald: TestHerald, deliveryId: string, timeoutMs = 15_000) {
  return eventually(async () => {
    const states = await attemptJobStates(herald, deliveryId);
    return states.some((state) => ["created", "retry", "active"].includes(state)) ? undefined : true;
  }, timeoutMs);
}

/** One sample of the running Herald's /metrics (0 when the series is absent). */
export async function metricSample(herald: TestHerald, series: string): Promise<number> {
  const text = await (await fetch(`${herald.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * How many events, deliveries and attempt jobs a merchant (or one event) has in the tables. A job is
 * removed in the transaction that records its attempt, so the jobs are those still queued or
 * running and those run (one attempt row each), read in one snapshot: a job made twice shows
 * whether or not a dispatcher got to it.
 */
export async function storedRows(
  herald: TestHerald,
  of: { merchant: string } | { event: string },
): Promise<{ events: number; deliveries: number; jobs: number }> {
  const events = "merchant" in of ? sql`merchant_id = ${of.merchant}` : sql`id = ${of.event}`;
  const deliveries = "merchant" in of ? sql`merchant_id = ${of.merchant}` : sql`event_id = ${of.event}`;
  const { rows } = await sql<{ events: number; deliveries: number; jobs: number }>`
    SELECT
      (SELECT count(*) FROM events WHERE ${events}) AS events,
      (SELECT count(*) FROM deliveries WHERE ${deliveries}) AS deliveries,
      (SELECT count(*) FROM pgboss.job WHERE name = 'attempts'
        AND data->>'delivery_id' IN (SELECT id FROM deliveries WHERE ${deliveries}))
      + (SELECT count(*) FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE ${deliveries})) AS jobs
  `.execute(herald.database.db);
  return rows[0]!;
}

/** The deliveries of these events, as the table has them now. */
export function deliveriesOfEvents(herald: TestHerald, eventIds: string[]) {
  return herald.database.db
    .selectFrom("deliveries")
    .select(["id", "event_id", "status", "attempt_count"])
    .where("event_id", "in", eventIds)
    .execute();
}

/** Waits until every one of these events has exactly one delivery, and all have succeeded. */
export function allSucceeded(herald: TestHerald, eventIds: string[], timeoutMs = 30_000) {
  return eventually(async () => {
    const rows = await deliveriesOfEvents(herald, eventIds);
    return rows.length === eventIds.length && rows.every((d) => d.status === "succeeded") ? rows : undefined;
  }, timeoutMs);
}
