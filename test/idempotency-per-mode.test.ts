import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createMerchant, useHerald } from "./support/fixture.ts";

describe("idempotency keys are per merchant and mode: live and test never share one", () => {
  const scene = useHerald({ dispatcher: false });

  async function keys(merchant: string) {
    const { herald } = scene;
    const created = await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" });
    const live = await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "live" });
    return { test: created.body.key as string, live: live.body.key as string };
  }

  const emitWith = (merchant: string, key: string, idempotencyKey: string, data: unknown) =>
    scene.herald.api(
      "POST",
      `/v1/merchants/${merchant}/events`,
      { type: "payment.succeeded", data },
      { key, headers: { "idempotency-key": idempotencyKey } },
    );

  async function stored(merchant: string) {
    const { rows } = await sql<{ mode: string; idempotency_key: string }>`
      SELECT mode, idempotency_key FROM events WHERE merchant_id = ${merchant} ORDER BY mode
    `.execute(scene.herald.database.db);
    return rows;
  }

  it("a test emit taking a key first never makes the live emit with that key answer 409", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const key = await keys(merchant);

    const test = await emitWith(merchant, key.test, "order-7", { amount: 1 });
    const live = await emitWith(merchant, key.live, "order-7", { amount: 2500 });

    expect(test.status).toBe(202);
    expect(live.status).toBe(202);
    expect(live.headers.get("idempotent-replayed")).toBeNull();
    expect(live.body.id).not.toBe(test.body.id);
    expect(await stored(merchant)).toEqual([
      { mode: "live", idempotency_key: "order-7" },
      { mode: "test", idempotency_key: "order-7" },
    ]);
  });

  it("a test key learns nothing about live keys: same key and data is a new test event", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const key = await keys(merchant);
    const live = await emitWith(merchant, key.live, "secret-order", { amount: 9 });

    const probe = await emitWith(merchant, key.test, "secret-order", { amount: 9 });
    const probeAgain = await emitWith(merchant, key.test, "secret-order", { amount: 9 });

    expect(probe.status).toBe(202);
    expect(probe.headers.get("idempotent-replayed")).toBeNull();
    expect(probe.body.id).not.toBe(live.body.id);
    // Within test mode the key still deduplicates.
    expect(probeAgain.headers.get("idempotent-replayed")).toBe("true");
    expect(probeAgain.body.id).toBe(probe.body.id);
  });

  it("a batch with one key in both modes stores one event per mode", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: [
        { type: "a.b", mode: "live", data: { n: 1 }, idempotency_key: "k" },
        { type: "a.b", mode: "test", data: { n: 2 }, idempotency_key: "k" },
        { type: "a.b", mode: "test", data: { n: 2 }, idempotency_key: "k" },
      ],
    });

    expect(answer.status).toBe(202);
    const [live, test, repeat] = answer.body.data;
    expect(live.replayed).toBe(false);
    expect(test.replayed).toBe(false);
    expect(test.id).not.toBe(live.id);
    expect(repeat).toMatchObject({ id: test.id, replayed: true });

    const again = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: [
        { type: "a.b", mode: "test", data: { n: 2 }, idempotency_key: "k" },
        { type: "a.b", mode: "live", data: { n: 1 }, idempotency_key: "k" },
      ],
    });
    expect(again.body.data.map((r: { id: string; replayed: boolean }) => [r.id, r.replayed])).toEqual([
      [test.id, true],
      [live.id, true],
    ]);
  });
});
