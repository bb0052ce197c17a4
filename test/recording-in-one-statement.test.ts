import { newId } from "@herald/core";
import { type AttemptRecord, recordAttempts } from "@herald/db";
import { describe, expect, it } from "vitest";
import { emit, merchantWithEndpoint, useHerald } from "./support/fixture.ts";

/**
 * `recordAttempts` writes a batch in one statement: attempts numbered per delivery in batch order,
 * the delivery counted and settled by its last attempt, and a batch written again (its commit went
 * through unacknowledged) changes nothing.
 */
describe("a recorded batch numbers, counts and settles in one statement, and repeats harmlessly", () => {
  const scene = useHerald({ dispatcher: false });
  const window = { hours: 72, ms: 72 * 3_600_000 };

  function attempt(deliveryId: string, endpointId: string, fields: Partial<AttemptRecord>): AttemptRecord {
    const at = new Date();
    return {
      id: newId("attempt", at.getTime()),
      delivery_id: deliveryId,
      endpoint_id: endpointId,
      trigger: "scheduled",
      scheduled_at: at,
      started_at: at,
      duration_ms: 3,
      request_url: "http://127.0.0.1:1/",
      request_headers: { "webhook-id": deliveryId },
      response_status: 500,
      response_headers: { "content-type": "text/plain" },
      response_body: "no",
      response_body_encoding: "utf8",
      error: null,
      error_detail: null,
      status: "pending",
      next_attempt_at: new Date(at.getTime() + 60_000),
      succeeded: false,
      disable_reason: null,
      ...fields,
    };
  }

  it("two attempts of one delivery in a batch are numbered 1 and 2; the second settles it", async () => {
    const { herald, receiver } = scene;
    const {
      merchant,
      endpoint: { id: endpoint },
    } = await merchantWithEndpoint(herald, { url: receiver.url });
    const eventId = await emit(herald, merchant);
    const { db } = herald.database;
    const delivery = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("event_id", "=", eventId)
      .executeTakeFirstOrThrow();
    const failed = attempt(delivery.id, endpoint, {});
    const succeeded = attempt(delivery.id, endpoint, {
      response_status: 200,
      status: "succeeded",
      next_attempt_at: null,
      succeeded: true,
    });
    const batch = [failed, succeeded];
    const first = await db.transaction().execute((trx) => recordAttempts(trx, batch, window));
    expect(first.numbers).toEqual(
      new Map([
        [failed.id, 1],
        [succeeded.id, 2],
      ]),
    );

    const again = await db.transaction().execute((trx) => recordAttempts(trx, batch, window));
    expect(again.numbers.size).toBe(0);

    const after = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("id", "=", delivery.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({
      attempt_count: 2,
      status: "succeeded",
      last_status: 200,
      next_attempt_at: null,
    });
    const rows = await db
      .selectFrom("attempts")
      .select(["id", "number", "request_headers", "response_headers"])
      .where("delivery_id", "=", delivery.id)
      .orderBy("number")
      .execute();
    expect(rows).toEqual([
      {
        id: failed.id,
        number: 1,
        request_headers: { "webhook-id": delivery.id },
        response_headers: { "content-type": "text/plain" },
      },
      {
        id: succeeded.id,
        number: 2,
        request_headers: { "webhook-id": delivery.id },
        response_headers: { "content-type": "text/plain" },
      },
    ]);
  });

  it("a failure starts the endpoint's failing run, and a success in a later batch clears it", async () => {
    const { herald, receiver } = scene;
    const {
      merchant,
      endpoint: { id: endpoint },
    } = await merchantWithEndpoint(herald, { url: receiver.url }, "Beta");
    const { db } = herald.database;
    const deliveryOf = async () => {
      const eventId = await emit(herald, merchant);
      return (
        await db
          .selectFrom("deliveries")
          .select("id")
          .where("event_id", "=", eventId)
          .executeTakeFirstOrThrow()
      ).id;
    };
    const failingSince = async () =>
      (
        await db
          .selectFrom("endpoints")
          .select("failing_since")
          .where("id", "=", endpoint)
          .executeTakeFirstOrThrow()
      ).failing_since;
    const failing = await deliveryOf();
    await db.transaction().execute((trx) => recordAttempts(trx, [attempt(failing, endpoint, {})], window));
    expect(await failingSince()).toBeInstanceOf(Date);
    const healthy = await deliveryOf();
    const success = attempt(healthy, endpoint, {
      status: "succeeded",
      succeeded: true,
      next_attempt_at: null,
    });
    await db.transaction().execute((trx) => recordAttempts(trx, [success], window));
    expect(await failingSince()).toBeNull();
  });
});
