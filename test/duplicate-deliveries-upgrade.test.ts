import { newId } from "@herald/core";
import { migrate } from "@herald/db";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, startTestHerald, type TestHerald } from "./support/herald.ts";

describe("upgrading a database that holds duplicate deliveries of one event to one endpoint", () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_TEST_NO_DISPATCHER: "1" });
  });
  afterAll(async () => {
    await herald.stop();
  });

  it("folds them into the oldest delivery, keeping every attempt, then guards against more", async () => {
    const { db, pool } = herald.database;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/dup" });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "a.b",
      mode: "test",
      data: {},
    });
    const original = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("event_id", "=", emitted.body.id)
      .executeTakeFirstOrThrow();

    // The database as it was before migration 0004, with what two racing resends left in it.
    await sql`DROP INDEX deliveries_event_endpoint`.execute(db);
    await sql`CREATE INDEX deliveries_event ON deliveries (event_id)`.execute(db);
    await sql`DROP TABLE key_checks`.execute(db);
    await sql`DELETE FROM herald_migrations WHERE name LIKE '0004%'`.execute(db);
    const duplicate = newId("delivery", Date.now() + 1000);
    await db
      .insertInto("deliveries")
      .values({ ...original, id: duplicate, status: "failed", attempt_count: 1 })
      .execute();
    for (const [i, deliveryId] of [original.id, duplicate].entries()) {
      await db
        .insertInto("attempts")
        .values({
          id: newId("attempt", Date.now() + i),
          delivery_id: deliveryId,
          endpoint_id: endpoint.id,
          number: 1,
          trigger: i === 0 ? "scheduled" : "manual",
          scheduled_at: new Date(),
          started_at: new Date(),
          duration_ms: 5,
          request_url: "http://127.0.0.1:9/dup",
          request_headers: "{}",
          response_status: 500,
        })
        .execute();
    }

    expect(await migrate(pool)).toEqual([expect.stringMatching(/^0004_/)]);

    const left = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("event_id", "=", emitted.body.id)
      .execute();
    expect(left.map((d) => d.id)).toEqual([original.id]);
    expect(left[0]!.attempt_count).toBe(2);
    const attempts = await db
      .selectFrom("attempts")
      .select(["delivery_id", "trigger"])
      .where("endpoint_id", "=", endpoint.id)
      .execute();
    expect(attempts.map((a) => a.delivery_id)).toEqual([original.id, original.id]);
    expect(attempts.map((a) => a.trigger).sort()).toEqual(["manual", "scheduled"]);
    await expect(
      db
        .insertInto("deliveries")
        .values({ ...original, id: newId("delivery", Date.now() + 2000) })
        .execute(),
    ).rejects.toThrow(/deliveries_event_endpoint/);
  });
});
