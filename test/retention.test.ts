import { newId } from "@herald/core";
import { type DeliveryStatus, pruneExpired } from "@herald/db";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";

const day = 86_400_000;

describe("retention deletes only what is due", () => {
  const scene = useHerald({ dispatcher: false });
  let merchant: string;
  let endpoint: { id: string };
  /** Another endpoint of the merchant: one event has one delivery per endpoint. */
  let second: { id: string };

  beforeAll(async () => {
    const { herald } = scene;
    merchant = await createMerchant(herald);
    endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/" });
    second = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/second" });
  });

  const daysAgo = (n: number) => new Date(Date.now() - n * day);

  async function event(at: Date): Promise<string> {
    const { herald } = scene;
    const id = newId("event", at.getTime());
    await herald.database.db
      .insertInto("events")
      .values({ id, merchant_id: merchant, mode: "test", type: "a.b", body: "{}", created_at: at })
      .execute();
    return id;
  }

  async function delivery(
    eventId: string,
    at: Date,
    status: DeliveryStatus,
    attempts: number,
    updatedAt = at,
    to = endpoint,
  ): Promise<string> {
    const { herald } = scene;
    const id = newId("delivery", at.getTime());
    const { db } = herald.database;
    await db
      .insertInto("deliveries")
      .values({
        id,
        merchant_id: merchant,
        mode: "test",
        event_id: eventId,
        endpoint_id: to.id,
        event_type: "a.b",
        status,
        attempt_count: attempts,
        next_attempt_at: null,
        created_at: at,
        updated_at: updatedAt,
      })
      .execute();
    for (let n = 1; n <= attempts; n++) {
      await db
        .insertInto("attempts")
        .values({
          id: newId("attempt", at.getTime() + n),
          delivery_id: id,
          endpoint_id: to.id,
          number: n,
          trigger: "scheduled",
          scheduled_at: at,
          started_at: at,
          duration_ms: 5,
          request_url: "http://127.0.0.1:9/",
          request_headers: "{}",
        })
        .execute();
    }
    return id;
  }

  async function operation(at: Date, deliveryIds: string[]): Promise<string> {
    const { herald } = scene;
    const id = newId("operation", at.getTime());
    const { db } = herald.database;
    await db
      .insertInto("operations")
      .values({
        id,
        merchant_id: merchant,
        mode: "test",
        kind: "endpoint.recover",
        endpoint_id: endpoint.id,
        since: daysAgo(60),
        until: at,
        created_at: at,
      })
      .execute();
    await db
      .insertInto("operation_deliveries")
      .values(deliveryIds.map((delivery_id) => ({ operation_id: id, delivery_id, attempts_before: 1 })))
      .execute();
    return id;
  }

  it("prunes settled, idle deliveries and their attempts, then events nothing refers to, in small batches", async () => {
    const { herald } = scene;
    const old = daysAgo(40);
    // Due: five settled deliveries of five events, three attempts each; an event that matched nothing.
    const dueEvents: string[] = [];
    const dueDeliveries: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = await event(new Date(old.getTime() + i));
      dueEvents.push(e);
      dueDeliveries.push(await delivery(e, new Date(old.getTime() + i), i % 2 ? "failed" : "succeeded", 3));
    }
    dueEvents.push(await event(old));
    // Kept: a pending delivery (and so its event) however old.
    const pendingEvent = await event(old);
    const pending = await delivery(pendingEvent, old, "pending", 2);
    // Kept: an old event with one due delivery and one pending one; only the due delivery goes.
    const sharedEvent = await event(old);
    const sharedDue = await delivery(sharedEvent, old, "succeeded", 1);
    const sharedPending = await delivery(
      sharedEvent,
      new Date(old.getTime() + 1),
      "pending",
      0,
      undefined,
      second,
    );
    dueDeliveries.push(sharedDue);
    // Kept: retried (updated) yesterday, though created long ago.
    const retriedEvent = await event(old);
    const retried = await delivery(retriedEvent, old, "failed", 2, daysAgo(1));
    // Kept: part of an operation begun yesterday.
    const recoveringEvent = await event(old);
    const recovering = await delivery(recoveringEvent, old, "failed", 1);
    const liveOperation = await operation(daysAgo(1), [recovering]);
    // Due: an operation begun long ago, and then its delivery.
    const staleEvent = await event(old);
    const stale = await delivery(staleEvent, old, "failed", 1);
    const staleOperation = await operation(daysAgo(35), [stale]);
    dueEvents.push(staleEvent);
    dueDeliveries.push(stale);
    // Kept: recent.
    const recentEvent = await event(daysAgo(1));
    const recent = await delivery(recentEvent, daysAgo(1), "succeeded", 1);

    const pruned = await pruneExpired(herald.database.db, daysAgo(30), { batchSize: 2 });
    expect(pruned).toEqual({ operations: 1, deliveries: 7, attempts: 5 * 3 + 1 + 1, events: 7 });

    const { db } = herald.database;
    const ids = async (table: "events" | "deliveries" | "operations") =>
      (await db.selectFrom(table).select("id").execute()).map((r) => r.id).sort();
    expect(await ids("deliveries")).toEqual([pending, sharedPending, retried, recovering, recent].sort());
    expect(await ids("events")).toEqual(
      [pendingEvent, sharedEvent, retriedEvent, recoveringEvent, recentEvent].sort(),
    );
    expect(await ids("operations")).toEqual([liveOperation]);
    expect(staleOperation).not.toBe(liveOperation);
    const attempts = await db
      .selectFrom("attempts")
      .select(["delivery_id", sql<number>`count(*)::int`.as("n")])
      .groupBy("delivery_id")
      .execute();
    expect(Object.fromEntries(attempts.map((a) => [a.delivery_id, a.n]))).toEqual({
      [pending]: 2,
      [retried]: 2,
      [recovering]: 1,
      [recent]: 1,
    });
    for (const id of dueDeliveries) expect(await ids("deliveries")).not.toContain(id);

    // Nothing more is due: a second run deletes nothing.
    expect(await pruneExpired(db, daysAgo(30))).toEqual({
      operations: 0,
      deliveries: 0,
      attempts: 0,
      events: 0,
    });
  });

  it("stops between statements once its signal is aborted", async () => {
    const { herald } = scene;
    const e = await event(daysAgo(50));
    await delivery(e, daysAgo(50), "succeeded", 1);
    const stopped = new AbortController();
    stopped.abort();
    expect(await pruneExpired(herald.database.db, daysAgo(30), { signal: stopped.signal })).toEqual({
      operations: 0,
      deliveries: 0,
      attempts: 0,
      events: 0,
    });
  });
});

describe("the retention schedule", () => {
  const scene = useHerald();

  it("is registered hourly by a dispatcher process", async () => {
    const { rows } = await sql<{ name: string; cron: string }>`
      SELECT name, cron FROM pgboss.schedule WHERE name = 'retention'
    `.execute(scene.herald.database.db);
    expect(rows).toEqual([{ name: "retention", cron: "7 * * * *" }]);
  });
});
