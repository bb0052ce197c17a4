// The physical limits of this machine: what Postgres and Node's HTTP stack do with none of
// Herald's work in the way. Each scenario runs its baseline beside its own measurement, in
// alternating runs, so that both see the same load from whatever else the machine is doing.
import { newId } from "@herald/core";
import pg from "pg";
import { Pool } from "undici";
import { paymentData } from "./herald-api.ts";
import type { SustainedLoad, Unit } from "./load.ts";
import type { BenchPostgres } from "./postgres.ts";
import { type Result, result } from "./results.ts";
import type { Sizes } from "./sizes.ts";
import type { BenchContext } from "./stack.ts";

export interface Baselines {
  /** BEGIN, two single-row INSERTs, COMMIT: the least an emit must do. */
  transaction: Unit;
  /** The same with two multi-row INSERTs of a batch's size. */
  batchTransaction: Unit;
  /** One POST of a webhook-sized body to the receiver, on kept-alive connections. */
  post: Unit;
  /** A POST, then a 2-statement transaction: the least a delivery must do. */
  postThenTransaction: Unit;
  /** A 2-statement transaction, then a POST: the least an emit followed by its delivery must do. */
  transactionThenPost: Unit;
  /**
   * One multi-row INSERT of a batch's size of attempt rows (every column an attempt records, the
   * request and response headers and body of a typical 200): the least recording attempts must write.
   */
  attemptWrites: Unit;
  close(): Promise<void>;
}

/** Tables shaped like events and deliveries, with only their primary keys, in a database of their own. */
export async function openBaselines(
  postgres: BenchPostgres,
  receiverUrl: string,
  sizes: Sizes,
): Promise<Baselines> {
  const databaseUrl = await postgres.freshDatabase("baseline");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: sizes.poolSize, application_name: "raw" });
  // A connection the server drops (or one still closing when the server stops at the end) is
  // replaced or gone; its "error" must not end the run.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  await pool.query(`
    CREATE TABLE raw_events (id text PRIMARY KEY, merchant_id text NOT NULL, type text NOT NULL,
      body text NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE raw_deliveries (id text PRIMARY KEY, event_id text NOT NULL, endpoint_id text NOT NULL,
      created_at timestamptz NOT NULL);
    CREATE TABLE raw_attempts (id text PRIMARY KEY, delivery_id text NOT NULL, endpoint_id text NOT NULL,
      number integer NOT NULL, trigger text NOT NULL, scheduled_at timestamptz NOT NULL,
      started_at timestamptz NOT NULL, duration_ms integer NOT NULL, request_url text NOT NULL,
      request_headers jsonb NOT NULL, response_status integer, response_headers jsonb, response_body text,
      error text, error_detail text)`);
  const receiver = new Pool(receiverUrl, { connections: sizes.postLoad.concurrency, pipelining: 1 });
  const merchantId = newId("merchant");
  const endpointId = newId("endpoint");
  const body = JSON.stringify({ id: newId("event"), type: "payment.succeeded", data: paymentData(1) });

  const inTransaction = async (statements: [string, unknown[]][]): Promise<boolean> => {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query("BEGIN");
      for (const [text, values] of statements) await client.query(text, values);
      await client.query("COMMIT");
      return true;
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      client.release(failure);
    }
  };
  const transaction: Unit = () => {
    const eventId = newId("event");
    return inTransaction([
      [
        "INSERT INTO raw_events (id, merchant_id, type, body, created_at) VALUES ($1, $2, $3, $4, now())",
        [eventId, merchantId, "payment.succeeded", body],
      ],
      [
        "INSERT INTO raw_deliveries (id, event_id, endpoint_id, created_at) VALUES ($1, $2, $3, now())",
        [newId("delivery"), eventId, endpointId],
      ],
    ]);
  };
  const batchTransaction: Unit = () => {
    const eventIds = Array.from({ length: sizes.batchSize }, () => newId("event"));
    return inTransaction([
      [
        `INSERT INTO raw_events (id, merchant_id, type, body, created_at)
         SELECT id, $2, 'payment.succeeded', $3, now() FROM unnest($1::text[]) AS id`,
        [eventIds, merchantId, body],
      ],
      [
        `INSERT INTO raw_deliveries (id, event_id, endpoint_id, created_at)
         SELECT e.id || '_d', e.id, $2, now() FROM unnest($1::text[]) AS e(id)`,
        [eventIds, endpointId],
      ],
    ]);
  };
  const post: Unit = async () => {
    const response = await receiver.request({
      method: "POST",
      path: "/baseline",
      headers: {
        "content-type": "application/json",
        "webhook-id": newId("event"),
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,Ym9ndXMgc2lnbmF0dXJlIGZvciB0aGUgYmFzZWxpbmUgb25seQ==",
      },
      body,
    });
    await response.body.text();
    return response.statusCode === 200;
  };
  const requestHeaders = JSON.stringify({
    "content-type": "application/json",
    "webhook-id": newId("event"),
    "webhook-timestamp": "1764000000",
    "webhook-signature": "v1,Ym9ndXMgc2lnbmF0dXJlIGZvciB0aGUgYmFzZWxpbmUgb25seQ==",
  });
  const responseHeaders = JSON.stringify({ "content-type": "text/plain", "content-length": "2" });
  const attemptWrites: Unit = async () => {
    const ids = Array.from({ length: sizes.batchSize }, () => newId("attempt"));
    await pool.query(
      `INSERT INTO raw_attempts (id, delivery_id, endpoint_id, number, trigger, scheduled_at, started_at,
         duration_ms, request_url, request_headers, response_status, response_headers, response_body)
       SELECT id, id || '_d', $2, 1, 'scheduled', now(), now(), 3, $3, $4::jsonb, 200, $5::jsonb, 'ok'
       FROM unnest($1::text[]) AS id`,
      [ids, endpointId, `${receiverUrl}/deliveries/0`, requestHeaders, responseHeaders],
    );
    return true;
  };
  return {
    transaction,
    batchTransaction,
    attemptWrites,
    post,
    postThenTransaction: async () => (await post()) && (await transaction()),
    transactionThenPost: async () => (await transaction()) && (await post()),
    async close() {
      await receiver.close();
      await pool.end();
    },
  };
}

/** A baseline's row: the rate, and the load it was measured at. */
export function baselineRow(
  ctx: BenchContext,
  scenario: string,
  rate: number,
  unit: string,
  load: SustainedLoad,
  rates: number[],
): Result {
  return result(scenario, rate, unit, {
    params: {
      concurrency: load.concurrency,
      pool_size: ctx.sizes.poolSize,
      runs: rates,
      run_ms: load.runMs,
      tables: "primary keys only",
    },
  });
}
