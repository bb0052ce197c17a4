import { newId } from "@herald/core";
import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";

describe("racing resends of one event to one endpoint", () => {
  // No dispatcher: what is asserted is what the resends stored, not what was sent.
  const scene = useHerald({ dispatcher: false });

  it("make one delivery, the others becoming manual attempts of it", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data: { amount: 1 },
    });
    expect(emitted.status).toBe(202);
    // Added after the emit: the event has no delivery to them, so a resend must create one. Several
    // rounds, because two requests must meet between one's check and its insert for the race to show.
    for (let round = 0; round < 8; round++) {
      const late = await createEndpoint(herald, merchant, { url: `http://127.0.0.1:9/late${round}` });
      const resends = await Promise.all(
        Array.from({ length: 16 }, () =>
          herald.api("POST", `/v1/merchants/${merchant}/events/${emitted.body.id}/resend`, {
            endpoint_id: late.id,
          }),
        ),
      );

      expect(resends.map((r) => r.status)).toEqual(resends.map(() => 202));
      const deliveries = await herald.database.db
        .selectFrom("deliveries")
        .select("id")
        .where("event_id", "=", emitted.body.id)
        .where("endpoint_id", "=", late.id)
        .execute();
      expect(deliveries).toHaveLength(1);
      const answered = resends.map((r) => r.body.deliveries[0]);
      expect(new Set(answered.map((d) => d.delivery_id))).toEqual(new Set([deliveries[0]!.id]));
      expect(answered.filter((d) => d.created)).toHaveLength(1);
    }
  });

  it("are refused by the database itself, whatever path tries a second delivery", async () => {
    const { herald } = scene;
    const [delivery] = await herald.database.db.selectFrom("deliveries").selectAll().limit(1).execute();
    await expect(
      herald.database.db
        .insertInto("deliveries")
        .values({ ...delivery!, id: newId("delivery") })
        .execute(),
    ).rejects.toThrow(/deliveries_event_endpoint/);
  });
});
