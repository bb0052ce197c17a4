import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  eventually,
  metricSample,
  storedRows,
  useHerald,
} from "./support/fixture.ts";

describe("an Idempotency-Key makes an emit happen once per merchant", () => {
  const scene = useHerald();

  const emit = (merchant: string, key: string, body: unknown) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/events`, body, {
      headers: { "idempotency-key": key },
    });

  it("20 concurrent emits with one key answer one id, store one event and deliver it once", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/a` });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/b` });
    const before = await metricSample(herald, "herald_events_emitted_total");
    const body = { type: "payment.succeeded", mode: "test", data: { amount: 2500 } };

    const answers = await Promise.all(Array.from({ length: 20 }, () => emit(merchant, "order-1", body)));

    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const first = answers.find((a) => a.headers.get("idempotent-replayed") === null)!;
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    for (const answer of answers) expect(answer.body).toEqual(first.body);
    expect(first.body).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: "payment.succeeded",
      created_at: expect.any(String),
      deliveries: 2,
    });
    const { rows } = await sql<{ n: number }>`
      SELECT count(*) AS n FROM events WHERE merchant_id = ${merchant}
    `.execute(herald.database.db);
    expect(rows[0]!.n).toBe(1);
    expect(await storedRows(herald, { event: first.body.id })).toEqual({ events: 1, deliveries: 2, jobs: 2 });
    expect(await metricSample(herald, "herald_events_emitted_total")).toBe(before + 1);

    await receiver.waitFor(2);
    await eventually(async () => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*) AS n FROM deliveries WHERE event_id = ${first.body.id} AND status = 'succeeded'
      `.execute(herald.database.db);
      return rows[0]!.n === 2 ? true : undefined;
    });
    const ours = receiver.received.filter((r) => r.headers["webhook-id"] === first.body.id);
    expect(ours.map((r) => r.path).sort()).toEqual(["/a", "/b"]);
  });

  it("a repeat answers the first event's response and creates nothing", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/c`, event_types: ["refund.*"] });
    const body = { type: "refund.created", mode: "test", data: { refund: "re_1", items: [1, 2] } };
    const first = await emit(merchant, "refund-re_1", body);
    const before = await metricSample(herald, "herald_events_emitted_total");

    const repeat = await emit(merchant, "refund-re_1", body);

    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(repeat.status).toBe(202);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    expect(repeat.body).toEqual(first.body);
    expect(repeat.body.deliveries).toBe(1);
    expect(await storedRows(herald, { event: first.body.id })).toEqual({ events: 1, deliveries: 1, jobs: 1 });
    expect(await metricSample(herald, "herald_events_emitted_total")).toBe(before);
  });

  it("where the fields sit in the request does not matter, only what they say", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const first = await emit(merchant, "k", '{"type":"a.b","mode":"test","data":{"x":1,"y":2}}');
    const reordered = await emit(merchant, "k", '{"data":{"x":1,"y":2},"mode":"test","type":"a.b"}');
    expect(reordered.status).toBe(202);
    expect(reordered.body.id).toBe(first.body.id);
  });

  it("a mode left out means the mode it defaults to", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const first = await emit(merchant, "k", { type: "a.b", data: {} });
    const explicit = await emit(merchant, "k", { type: "a.b", mode: "live", data: {} });
    expect(explicit.status).toBe(202);
    expect(explicit.body.id).toBe(first.body.id);
  });

  it("the same key with another type or data answers 409 problem+json and creates nothing", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const body = { type: "payment.succeeded", mode: "test", data: { a: 1, b: 2 } };
    const first = await emit(merchant, "pay-9", body);
    expect(first.status).toBe(202);

    for (const changed of [
      { ...body, type: "payment.failed" },
      { ...body, data: { a: 1, b: 3 } },
      // Another key order is another body on the wire, and so another request.
      { ...body, data: { b: 2, a: 1 } },
    ]) {
      const answer = await emit(merchant, "pay-9", changed);
      expect(answer.status).toBe(409);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body).toEqual({
        type: "urn:herald:problem:idempotency_conflict",
        title: "Idempotency key reused with a different request",
        status: 409,
        detail: "This idempotency key was used with a different type, mode or data.",
        field: "idempotency-key",
      });
    }
    const { rows } = await sql<{ n: number }>`
      SELECT count(*) AS n FROM events WHERE merchant_id = ${merchant}
    `.execute(herald.database.db);
    expect(rows[0]!.n).toBe(1);
  });

  it("a test-mode key cannot replay a live event's key, nor learn its id: keys are per mode", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const live = await emit(merchant, "shared", { type: "a.b", mode: "live", data: {} });
    const testKey = await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" });

    const answer = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/events`,
      { type: "a.b", data: {} },
      { key: testKey.body.key, headers: { "idempotency-key": "shared" } },
    );

    expect(live.status).toBe(202);
    expect(answer.status).toBe(202);
    expect(answer.headers.get("idempotent-replayed")).toBeNull();
    expect(JSON.stringify(answer.body)).not.toContain(live.body.id);
  });

  it("keys are per merchant: another merchant's same key is a new event", async () => {
    const { herald } = scene;
    const one = await createMerchant(herald, "One");
    const two = await createMerchant(herald, "Two");
    const body = { type: "a.b", mode: "test", data: {} };
    const first = await emit(one, "same-key", body);
    const second = await emit(two, "same-key", body);
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("a key used more than 24 hours ago still answers the first event", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const body = { type: "a.b", mode: "test", data: { n: 1 } };
    const first = await emit(merchant, "yesterday", body);
    await sql`UPDATE events SET created_at = now() - interval '25 hours' WHERE id = ${first.body.id}`.execute(
      herald.database.db,
    );

    const repeat = await emit(merchant, "yesterday", body);

    expect(repeat.status).toBe(202);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    expect(repeat.body.id).toBe(first.body.id);
    expect(Date.now() - Date.parse(repeat.body.created_at)).toBeGreaterThan(25 * 3600_000 - 60_000);
  });

  it("emits without a key are never deduplicated", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const body = { type: "a.b", mode: "test", data: {} };
    const [a, b] = await Promise.all([
      herald.api("POST", `/v1/merchants/${merchant}/events`, body),
      herald.api("POST", `/v1/merchants/${merchant}/events`, body),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.id).not.toBe(b.body.id);
  });
});
