import type { Attempt, Delivery } from "@herald/db";
import { createEndpoint, createMerchant, eventually, type TestHerald } from "./herald.ts";
import { Receiver } from "./receiver.ts";

/** Emits a test-mode event through the API and returns its id. */
export async function emit(
  herald: TestHerald,
  merchantId: string,
  fields: { type?: string; data?: unknown } = {},
): Promise<string> {
  const answer = await herald.api("POST", `/v1/merchants/${merchantId}/events`, {
    type: fields.type ?? "payment.succeeded",
    mode: "test",
    data: fields.data ?? {},
  });
  if (answer.status !== 202) throw new Error(`emit: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}

/** The delivery of an event (it must have exactly one) with its attempts, in order, from the tables. */
export async function deliveryOf(
  herald: TestHerald,
  eventId: string,
): Promise<{ delivery: Delivery; attempts: Attempt[] }> {
  // One snapshot: an attempt recorded between two reads would make them disagree.
  return herald.database.db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (db) => {
      const deliveries = await db
        .selectFrom("deliveries")
        .selectAll()
        .where("event_id", "=", eventId)
        .execute();
      if (deliveries.length !== 1) throw new Error(`event ${eventId} has ${deliveries.length} deliveries`);
      const delivery = deliveries[0]!;
      const attempts = await db
        .selectFrom("attempts")
        .selectAll()
        .where("delivery_id", "=", delivery.id)
        .orderBy("number")
        .execute();
      return { delivery, attempts };
    });
}

/** Waits until the event's delivery is no longer pending, then answers it with its attempts. */
export function settledDelivery(herald: TestHerald, eventId: string, timeoutMs = 15_000) {
  return eventually(async () => {
    const found = await deliveryOf(herald, eventId);
    return found.delivery.status === "pending" ? undefined : found;
  }, timeoutMs);
}

/** Waits until the event's delivery has at least `count` attempts recorded. */
export function attemptsRecorded(herald: TestHerald, eventId: string, count: number, timeoutMs = 15_000) {
  return eventually(async () => {
    const found = await deliveryOf(herald, eventId);
    return found.attempts.length >= count ? found : undefined;
  }, timeoutMs);
}

/** Milliseconds after the delivery's creation at which each attempt was scheduled. */
export function scheduledOffsets({ delivery, attempts }: { delivery: Delivery; attempts: Attempt[] }) {
  return attempts.map((a) => a.scheduled_at.getTime() - delivery.created_at.getTime());
}

/**
 * Sends one delivery end to end, so that connections are open and code is compiled before a test
 * that asserts timings starts.
 */
export async function warmUp(herald: TestHerald): Promise<void> {
  const receiver = await Receiver.start();
  const merchant = await createMerchant(herald, "Warm-up");
  await createEndpoint(herald, merchant, { url: receiver.url });
  await settledDelivery(herald, await emit(herald, merchant));
  await receiver.close();
}
