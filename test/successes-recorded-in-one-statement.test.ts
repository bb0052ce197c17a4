import { newId } from "@herald/core";
import {
  type AttemptJobRecord,
  type AttemptRecord,
  attemptQueue,
  composableSettle,
  fetchAttempts,
  recordAttempts,
  startQueue,
} from "@herald/db";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptJobStates, emit, merchantWithEndpoint, useHerald } from "./support/fixture.ts";

/**
 * The recorder writes a batch of plain successes as one statement: the fenced removal of their jobs
 * (pg-boss's completion fence) nested beside the attempt rows, outside any transaction. Its jobs are
 * removed exactly when the claim that ran them still holds; a success whose claim lapsed is stored
 * all the same and leaves the job to the claim that holds it now.
 */
describe("a batch of successes settles its jobs and stores its attempts in one statement", () => {
  const scene = useHerald({ dispatcher: false });
  const window = { hours: 72, ms: 72 * 3_600_000 };
  let boss: PgBoss;
  beforeAll(async () => {
    boss = await startQueue(scene.herald.databaseUrl, { supervise: false, max: 2 });
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
  });

  async function takeOne(): Promise<{ job: AttemptJobRecord; endpointId: string }> {
    const { herald, receiver } = scene;
    const { merchant, endpoint } = await merchantWithEndpoint(herald, { url: receiver.url });
    const eventId = await emit(herald, merchant);
    const { run } = await fetchAttempts(herald.database.db, boss, {
      batchSize: 1,
      endpointConcurrency: 10,
    });
    expect(run).toHaveLength(1);
    const job = run[0]!;
    const delivery = await herald.database.db
      .selectFrom("deliveries")
      .select("id")
      .where("event_id", "=", eventId)
      .executeTakeFirstOrThrow();
    expect(job.data.delivery_id).toBe(delivery.id);
    return { job, endpointId: endpoint.id };
  }

  function success(job: AttemptJobRecord, endpointId: string): AttemptRecord {
    const at = new Date();
    return {
      id: newId("attempt", at.getTime()),
      delivery_id: job.data.delivery_id,
      endpoint_id: endpointId,
      trigger: "scheduled",
      scheduled_at: new Date(job.data.scheduled_at),
      started_at: at,
      duration_ms: 2,
      request_url: scene.receiver.url,
      request_headers: { "webhook-id": job.data.delivery_id },
      response_status: 200,
      response_headers: { "content-type": "text/plain" },
      response_body: "ok",
      response_body_encoding: "utf8",
      error: null,
      error_detail: null,
      status: "succeeded",
      next_attempt_at: null,
      succeeded: true,
      disable_reason: null,
      endpoint_failing: false,
    };
  }

  it("removes the job the claim holds, stores the attempt and settles the delivery", async () => {
    const { db } = scene.herald.database;
    const { job, endpointId } = await takeOne();
    const record = success(job, endpointId);
    const settling = await composableSettle(boss, [job]);
    expect(settling).toBeDefined();

    const recorded = await recordAttempts(db, [record], window, settling);

    expect(recorded.settled).toEqual([job.id]);
    expect(recorded.numbers).toEqual(new Map([[record.id, 1]]));
    // The attempt is on record in Herald's tables; the queue keeps nothing of a finished job.
    expect(await attemptJobStates(scene.herald, job.data.delivery_id)).toEqual([]);
    const delivery = await db
      .selectFrom("deliveries")
      .select(["status", "attempt_count", "next_attempt_at"])
      .where("id", "=", job.data.delivery_id)
      .executeTakeFirstOrThrow();
    expect(delivery).toEqual({ status: "succeeded", attempt_count: 1, next_attempt_at: null });
  });

  it("a success whose claim lapsed is stored, and the job stays with the claim that holds it", async () => {
    const { db } = scene.herald.database;
    const { job, endpointId } = await takeOne();
    // The lease lapsed: the job went back to the queue and another dispatcher took it again.
    await boss.fail(attemptQueue, [{ id: job.id, retryCount: job.retryCount }], null);
    const { run } = await fetchAttempts(db, boss, { batchSize: 10, endpointConcurrency: 10 });
    const retaken = run.find((j) => j.id === job.id);
    expect(retaken?.retryCount).toBe(job.retryCount + 1);

    const record = success(job, endpointId);
    const recorded = await recordAttempts(db, [record], window, await composableSettle(boss, [job]));

    expect(recorded.settled).toEqual([]);
    expect(recorded.numbers).toEqual(new Map([[record.id, 1]]));
    const { rows } = await sql<{ state: string; retry_count: number }>`
      SELECT state, retry_count FROM pgboss.job WHERE id = ${job.id}::uuid`.execute(db);
    expect(rows).toEqual([{ state: "active", retry_count: job.retryCount + 1 }]);
    const delivery = await db
      .selectFrom("deliveries")
      .select("status")
      .where("id", "=", job.data.delivery_id)
      .executeTakeFirstOrThrow();
    expect(delivery.status).toBe("succeeded");
  });
});
