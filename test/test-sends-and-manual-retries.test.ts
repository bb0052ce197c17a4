import { envelopeBody, newId } from "@herald/core";
import { type AttemptTrigger, attemptJob, attemptQueue, startQueue } from "@herald/db";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  createEndpoint,
  createMerchant,
  deliveryOf,
  emit,
  eventually,
  queueDrainedFor,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

// 1 hour becomes 360 ms.
const scale = 0.0001;

describe("off-schedule attempts: a test send ends with its one attempt; a manual retry only ever helps", () => {
  // The receiver answers each event with the status set for it here; by default, 500 to events of
  // type `payment.failing` and 200 to the rest.
  const answers = new Map<string, number>();
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: String(scale) },
    receiver: (request) => {
      const event = JSON.parse(request.body);
      return { status: answers.get(event.id) ?? (event.type === "payment.failing" ? 500 : 200) };
    },
  });
  let boss: PgBoss;
  beforeAll(async () => {
    boss = await startQueue(scene.herald.databaseUrl, { supervise: false, max: 2 });
  });
  afterAll(() => boss.stop({ graceful: false, close: true }));

  /** Queues one attempt of a delivery, runnable now, as the test-send and retry routes do. */
  async function queueAttempt(delivery: { id: string; endpoint_id: string }, trigger: AttemptTrigger) {
    const now = new Date();
    const job = attemptJob(delivery.id, { id: delivery.endpoint_id, timeout_ms: 15_000 }, trigger, now);
    await boss.insert(attemptQueue, [job]);
  }

  /** A test event and its one delivery, stored with no attempt queued yet. */
  async function storeTestDelivery(merchantId: string, endpointId: string) {
    const { herald } = scene;
    const now = new Date();
    const eventId = newId("event", now.getTime());
    const deliveryId = newId("delivery", now.getTime());
    const body = envelopeBody({ id: eventId, type: "webhook.test", created_at: now.toISOString(), data: {} });
    const { db } = herald.database;
    await db
      .insertInto("events")
      .values({
        id: eventId,
        merchant_id: merchantId,
        mode: "test",
        type: "webhook.test",
        body,
        created_at: now,
      })
      .execute();
    await db
      .insertInto("deliveries")
      .values({
        id: deliveryId,
        merchant_id: merchantId,
        mode: "test",
        event_id: eventId,
        endpoint_id: endpointId,
        event_type: "webhook.test",
        next_attempt_at: now,
        created_at: now,
      })
      .execute();
    return { eventId, delivery: { id: deliveryId, endpoint_id: endpointId } };
  }

  async function endpointFor(retryPolicy: unknown = "test") {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: retryPolicy });
    return { merchant, endpoint };
  }

  it("a test delivery answered 200 ends succeeded after one attempt", async () => {
    const { herald } = scene;
    const { merchant, endpoint } = await endpointFor();
    const { eventId, delivery } = await storeTestDelivery(merchant, endpoint.id);
    await queueAttempt(delivery, "test");

    const found = await settledDelivery(herald, eventId);
    expect(found.delivery).toMatchObject({ status: "succeeded", attempt_count: 1, next_attempt_at: null });
    expect(found.attempts.map((a) => [a.trigger, a.number, a.response_status])).toEqual([["test", 1, 200]]);
  });

  it("a test delivery answered 500 ends failed after its one attempt, never retried", async () => {
    const { herald, receiver } = scene;
    const { merchant, endpoint } = await endpointFor();
    const { eventId, delivery } = await storeTestDelivery(merchant, endpoint.id);
    answers.set(eventId, 500);
    await queueAttempt(delivery, "test");

    const found = await settledDelivery(herald, eventId);
    expect(found.delivery).toMatchObject({ status: "failed", attempt_count: 1, next_attempt_at: null });
    // No attempt is left queued for it: the one attempt is all there will be.
    await queueDrainedFor(herald, delivery.id);
    const later = await deliveryOf(herald, eventId);
    expect(later.attempts.map((a) => [a.trigger, a.response_status, a.error])).toEqual([
      ["test", 500, "http_status"],
    ]);
    expect(receiver.received.filter((r) => JSON.parse(r.body).id === eventId)).toHaveLength(1);
  });

  it("a test send reaches a disabled endpoint, which stays disabled", async () => {
    const { herald } = scene;
    const { merchant, endpoint } = await endpointFor();
    await herald.database.db
      .updateTable("endpoints")
      .set({ enabled: false, disabled_reason: "paused by the merchant" })
      .where("id", "=", endpoint.id)
      .execute();
    const { eventId, delivery } = await storeTestDelivery(merchant, endpoint.id);
    await queueAttempt(delivery, "test");

    const found = await settledDelivery(herald, eventId);
    expect(found.delivery.status).toBe("succeeded");
    const row = await herald.database.db
      .selectFrom("endpoints")
      .select(["enabled", "disabled_reason"])
      .where("id", "=", endpoint.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ enabled: false, disabled_reason: "paused by the merchant" });
  });

  it("a failed delivery: a failing manual attempt (even 410) changes nothing, a succeeding one marks it succeeded", async () => {
    const { herald } = scene;
    // Two attempts, 360 ms apart, both answered 500.
    const { merchant, endpoint } = await endpointFor({ custom: [3600] });
    const eventId = await emit(herald, merchant, { type: "payment.failing" });
    const failed = await settledDelivery(herald, eventId);
    expect(failed.delivery).toMatchObject({ status: "failed", attempt_count: 2 });

    answers.set(eventId, 410);
    await queueAttempt(failed.delivery, "manual");
    const afterGone = await attemptsRecorded(herald, eventId, 3);
    expect(afterGone.delivery).toMatchObject({ status: "failed", attempt_count: 3, next_attempt_at: null });
    expect(afterGone.attempts[2]).toMatchObject({ trigger: "manual", number: 3, response_status: 410 });
    const shown = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`);
    expect(shown.body).toMatchObject({ enabled: true, disabled_reason: null });

    answers.set(eventId, 200);
    await queueAttempt(failed.delivery, "manual");
    const recovered = await eventually(async () => {
      const found = await deliveryOf(herald, eventId);
      return found.delivery.status === "succeeded" ? found : undefined;
    });
    expect(recovered.delivery).toMatchObject({ attempt_count: 4, last_status: 200, next_attempt_at: null });
    expect(recovered.attempts.map((a) => a.trigger)).toEqual(["scheduled", "scheduled", "manual", "manual"]);
  });

  it("a pending delivery: a failing manual attempt leaves its status and schedule untouched", async () => {
    const { herald } = scene;
    // The second attempt is 10 hours (3.6 s) after the first.
    const { merchant } = await endpointFor({ custom: [36_000] });
    const eventId = await emit(herald, merchant, { type: "payment.failing" });
    const pending = await attemptsRecorded(herald, eventId, 1);
    const due = pending.delivery.next_attempt_at;
    expect(due!.getTime() - pending.delivery.created_at.getTime()).toBe(3600);

    await queueAttempt(pending.delivery, "manual");
    const afterManual = await attemptsRecorded(herald, eventId, 2);
    expect(afterManual.delivery).toMatchObject({ status: "pending", attempt_count: 2, next_attempt_at: due });
    expect(afterManual.attempts.map((a) => [a.trigger, a.response_status])).toEqual([
      ["scheduled", 500],
      ["manual", 500],
    ]);

    // The schedule goes on: its second slot is still tried, on time.
    answers.set(eventId, 200);
    const done = await settledDelivery(herald, eventId);
    expect(done.delivery.status).toBe("succeeded");
    expect(done.attempts.map((a) => a.trigger)).toEqual(["scheduled", "manual", "scheduled"]);
    expect(done.attempts[2]!.scheduled_at).toEqual(due);
  });
});
