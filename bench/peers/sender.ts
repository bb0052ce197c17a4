// A peer: what a Node team would build instead of Herald, to be measured beside it in the same run
// (issue 13). One file, two queue backends, two roles, configured by environment:
//
//   node bench/peers/sender.ts <peer> <role> [redis-url], DATABASE_URL in the environment:
//   peer bullmq (Redis at redis-url) | pgboss (PostgreSQL, pg-boss at Herald's pinned version)
//   role ingest: a Fastify server; POST /events {endpoint_id, type, data} enqueues one delivery and
//                answers 202 {id}.
//   role worker: takes deliveries, signs them with `standardwebhooks`, POSTs them with undici,
//                records every attempt in PostgreSQL (batched), retries failures on Herald's live
//                schedule.
//
// Each gets its best honest configuration: BullMQ at concurrency 1,024; pg-boss with LISTEN/NOTIFY,
// batches of 100 and four local workers. Neither is atomic: the enqueue and the attempt records are
// separate writes, and there are no tenants, SSRF guard, per-endpoint limits or delivery log.
import { randomUUID } from "node:crypto";
import { newId, scheduleOffsets } from "@herald/core";
import { Queue, Worker } from "bullmq";
import Fastify from "fastify";
import { Redis } from "ioredis";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";

interface Delivery {
  event_id: string;
  endpoint_id: string;
  body: string;
  /** The first attempt's time (epoch ms): the live schedule's anchor. */
  anchor: number;
  attempt: number;
}

interface Endpoint {
  url: string;
  webhook: Webhook;
}

const [peer, role, redisUrl] = process.argv.slice(2) as ["bullmq" | "pgboss", "ingest" | "worker", string?];
const queueName = "deliveries";
const offsets = scheduleOffsets("live");

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const endpoints = new Map<string, Promise<Endpoint | undefined>>();
/** Endpoints change rarely: cached, as a team would. */
function endpoint(id: string): Promise<Endpoint | undefined> {
  let found = endpoints.get(id);
  if (!found) {
    found = db
      .query<{ url: string; secret: string }>("SELECT url, secret FROM peer_endpoints WHERE id = $1", [id])
      .then(({ rows }) => (rows[0] ? { url: rows[0].url, webhook: new Webhook(rows[0].secret) } : undefined));
    endpoints.set(id, found);
  }
  return found;
}

/** Attempt rows, written in multi-row INSERTs: each caller resolves once its row is stored. */
const pending: { row: unknown[]; done: (error?: unknown) => void }[] = [];
let flushing = false;
function recordAttempt(row: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    pending.push({ row, done: (error) => (error ? reject(error) : resolve()) });
    if (!flushing) {
      flushing = true;
      void flush();
    }
  });
}
async function flush(): Promise<void> {
  while (pending.length > 0) {
    const batch = pending.splice(0, 500);
    const columns = Array.from({ length: 7 }, (_, c) => batch.map((b) => b.row[c]));
    try {
      await db.query(
        `INSERT INTO peer_attempts (id, event_id, endpoint_id, attempt, status, duration_ms, started_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::timestamptz[])`,
        columns,
      );
      for (const b of batch) b.done();
    } catch (error) {
      for (const b of batch) b.done(error);
    }
  }
  flushing = false;
}

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

/** One attempt: sign, POST, record. Answers whether the receiver took it. */
async function attempt(delivery: Delivery): Promise<boolean> {
  const target = await endpoint(delivery.endpoint_id);
  if (!target) return true;
  const started = new Date();
  const signature = target.webhook.sign(delivery.event_id, started, delivery.body);
  let status = 0;
  try {
    const response = await request(target.url, {
      method: "POST",
      dispatcher: agent,
      headers: {
        "content-type": "application/json",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": String(Math.floor(started.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: delivery.body,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    status = response.statusCode;
    await response.body.dump();
  } catch {}
  await recordAttempt([
    newId("attempt"),
    delivery.event_id,
    delivery.endpoint_id,
    delivery.attempt,
    status,
    Date.now() - started.getTime(),
    started,
  ]);
  return status >= 200 && status < 300;
}

/** When the next attempt is due on the live schedule, or undefined when it is exhausted. */
function nextDelayMs(delivery: Delivery): number | undefined {
  const offset = offsets[delivery.attempt];
  return offset === undefined ? undefined : Math.max(0, delivery.anchor + offset - Date.now());
}

interface Backend {
  enqueue(delivery: Delivery): Promise<void>;
  work(): Promise<void>;
  close(): Promise<void>;
}

async function bullmqBackend(): Promise<Backend> {
  const connection = new Redis(redisUrl!, { maxRetriesPerRequest: null });
  const queue = new Queue<Delivery>(queueName, { connection });
  let worker: Worker<Delivery> | undefined;
  return {
    async enqueue(delivery) {
      await queue.add("deliver", delivery, {
        attempts: offsets.length,
        backoff: { type: "live" },
        removeOnComplete: true,
        removeOnFail: 1000,
      });
    },
    async work() {
      worker = new Worker<Delivery>(
        queueName,
        async (job) => {
          const delivery = { ...job.data, attempt: job.attemptsMade + 1 };
          if (!(await attempt(delivery))) throw new Error("not accepted");
        },
        {
          connection,
          concurrency: 1024,
          settings: {
            // attemptsMade failures so far: the next slot of the live schedule.
            backoffStrategy: (
              attemptsMade: number,
              _type?: string,
              _error?: Error,
              job?: { data: Delivery },
            ) => nextDelayMs({ ...job!.data, attempt: attemptsMade }) ?? 0,
          },
        },
      );
      await worker.waitUntilReady();
    },
    async close() {
      await worker?.close();
      await queue.close();
      connection.disconnect();
    },
  };
}

async function pgbossBackend(): Promise<Backend> {
  const boss = new PgBoss({
    connectionString: process.env.DATABASE_URL,
    max: 10,
    useListenNotify: true,
    supervise: role === "worker",
    schedule: false,
  });
  boss.on("error", () => {});
  await boss.start();
  if (!(await boss.getQueue(queueName))) await boss.createQueue(queueName, { notify: true, retryLimit: 0 });
  return {
    async enqueue(delivery) {
      await boss.send(queueName, delivery);
    },
    async work() {
      await boss.work<Delivery>(
        queueName,
        {
          batchSize: 100,
          localConcurrency: 4,
          pollingIntervalSeconds: 0.5,
          notifyPollingIntervalSeconds: 5,
          burstWhenBatchFull: true,
        },
        async (jobs) => {
          const retries: { data: Delivery; startAfter: Date }[] = [];
          await Promise.all(
            jobs.map(async (job) => {
              if (await attempt(job.data)) return;
              const retry = { ...job.data, attempt: job.data.attempt + 1 };
              const delay = nextDelayMs(job.data);
              if (delay !== undefined)
                retries.push({ data: retry, startAfter: new Date(Date.now() + delay) });
            }),
          );
          if (retries.length > 0) await boss.insert(queueName, retries);
        },
      );
    },
    close: () => boss.stop({ graceful: true }),
  };
}

const backend = peer === "bullmq" ? await bullmqBackend() : await pgbossBackend();

if (role === "ingest") {
  const app = Fastify({ logger: false });
  app.post<{ Body: { endpoint_id: string; type: string; data: unknown } }>(
    "/events",
    {
      schema: {
        body: {
          type: "object",
          required: ["endpoint_id", "type", "data"],
          properties: { endpoint_id: { type: "string" }, type: { type: "string" }, data: { type: "object" } },
        },
      },
    },
    async (req, reply) => {
      if (!(await endpoint(req.body.endpoint_id))) return reply.code(404).send({ error: "no such endpoint" });
      const id = `msg_${randomUUID()}`;
      const body = JSON.stringify({
        id,
        type: req.body.type,
        created_at: new Date().toISOString(),
        data: req.body.data,
      });
      await backend.enqueue({
        event_id: id,
        endpoint_id: req.body.endpoint_id,
        body,
        anchor: Date.now(),
        attempt: 1,
      });
      return reply.code(202).send({ id });
    },
  );
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  console.log(`peer ingest listening at ${url}`);
  process.once(
    "SIGTERM",
    () =>
      void app
        .close()
        .then(() => backend.close())
        .finally(() => process.exit(0)),
  );
} else {
  await backend.work();
  console.log("peer worker running");
  process.once("SIGTERM", () => void backend.close().finally(() => process.exit(0)));
}
