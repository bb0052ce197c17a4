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

describe("a batch emit stores many events in one transaction and answers per event", () => {
  const scene = useHerald({ env: { HERALD_ENDPOINT_CONCURRENCY: "50" } });

  const batch = (merchant: string, events: unknown[]) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/events/batch`, { events });

  it("1 000 events: every one stored with its own data, answered in order, and delivered", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/bulk` });
    const before = await metricSample(herald, "herald_events_emitted_total");
    const events = Array.from({ length: 1000 }, (_, i) => ({
      type: i % 2 === 0 ? "order.created" : "customer.created",
      mode: "test",
      data: { i, note: `event ${i}` },
    }));

    const answer = await batch(merchant, events);

    expect(answer.status).toBe(202);
    expect(answer.body.data).toHaveLength(1000);
    const results = answer.body.data as { id: string; type: string; deliveries: number; replayed: boolean }[];
    expect(results.map((r) => r.type)).toEqual(events.map((e) => e.type));
    expect(results.every((r) => r.deliveries === 1)).toBe(true);
    expect(results.every((r) => r.replayed === false)).toBe(true);
    expect(new Set(results.map((r) => r.id)).size).toBe(1000);
    const { rows } = await sql<{ id: string; body: string }>`
      SELECT id, body FROM events WHERE merchant_id = ${merchant}
    `.execute(herald.database.db);
    const indexById = new Map(rows.map((r) => [r.id, JSON.parse(r.body).data.i as number]));
    expect(results.map((r) => indexById.get(r.id))).toEqual(events.map((_, i) => i));
    expect(await storedRows(herald, { merchant })).toEqual({ events: 1000, deliveries: 1000, jobs: 1000 });
    expect(await metricSample(herald, "herald_events_emitted_total")).toBe(before + 1000);

    await receiver.waitFor(1000, 60_000);
    const delivered = receiver.received.filter((r) => r.path === "/bulk");
    expect(delivered).toHaveLength(1000);
    expect(new Set(delivered.map((r) => r.headers["webhook-id"]))).toEqual(new Set(results.map((r) => r.id)));
    for (const request of delivered) {
      const body = JSON.parse(request.body);
      expect(results[body.data.i]!.id).toBe(body.id);
    }
  });

  it("a key repeated within the batch or used earlier answers the first event, or a 409 for that event alone", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/keys` });
    const earlier = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/events`,
      { type: "payment.succeeded", mode: "test", data: { n: 0 } },
      { headers: { "idempotency-key": "early" } },
    );
    const before = await metricSample(herald, "herald_events_emitted_total");

    const answer = await batch(merchant, [
      { type: "payment.succeeded", mode: "test", data: { n: 0 }, idempotency_key: "early" },
      { type: "payment.succeeded", mode: "test", data: { n: 99 }, idempotency_key: "early" },
      { type: "payment.succeeded", mode: "test", data: { n: 1 }, idempotency_key: "k1" },
      { type: "payment.succeeded", mode: "test", data: { n: 1 }, idempotency_key: "k1" },
      { type: "payment.failed", mode: "test", data: { n: 1 }, idempotency_key: "k1" },
      { type: "payment.succeeded", mode: "test", data: { n: 2 } },
      { type: "payment.succeeded", mode: "test", data: { n: 2 } },
    ]);

    expect(answer.status).toBe(202);
    const [replayOfEarlier, conflictWithEarlier, k1, replayOfK1, conflictWithK1, unkeyedA, unkeyedB] =
      answer.body.data;
    expect(replayOfEarlier).toEqual({ ...earlier.body, replayed: true });
    const conflict = (index: number) => ({
      error: {
        type: "urn:herald:problem:idempotency_conflict",
        title: "Idempotency key reused with a different request",
        status: 409,
        detail: "This idempotency key was used with a different type, mode or data.",
        field: `events.${index}.idempotency_key`,
      },
    });
    expect(conflictWithEarlier).toEqual(conflict(1));
    expect(k1).toMatchObject({ type: "payment.succeeded", deliveries: 1, replayed: false });
    expect(replayOfK1).toEqual({ ...k1, replayed: true });
    expect(conflictWithK1).toEqual(conflict(4));
    expect(unkeyedA).toMatchObject({ deliveries: 1, replayed: false });
    expect(unkeyedB).toMatchObject({ deliveries: 1, replayed: false });
    expect(new Set([earlier.body.id, k1.id, unkeyedA.id, unkeyedB.id]).size).toBe(4);
    expect(await storedRows(herald, { merchant })).toEqual({ events: 4, deliveries: 4, jobs: 4 });
    expect(await metricSample(herald, "herald_events_emitted_total")).toBe(before + 3);

    await eventually(async () => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*) AS n FROM deliveries WHERE merchant_id = ${merchant} AND status = 'succeeded'
      `.execute(herald.database.db);
      return rows[0]!.n === 4 ? true : undefined;
    });
    expect(receiver.received.filter((r) => r.path === "/keys")).toHaveLength(4);
  });

  it("sending a keyed batch again answers the same events and creates nothing", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/again` });
    const events = Array.from({ length: 50 }, (_, i) => ({
      type: "invoice.paid",
      mode: "test",
      data: { invoice: i },
      idempotency_key: `invoice-${i}`,
    }));

    const first = await batch(merchant, events);
    const again = await batch(merchant, events);

    expect(again.status).toBe(202);
    expect(again.body.data).toEqual(
      first.body.data.map((r: Record<string, unknown>) => ({ ...r, replayed: true })),
    );
    expect(await storedRows(herald, { merchant })).toEqual({ events: 50, deliveries: 50, jobs: 50 });
  });

  it("a batch with a mode left out emits live, as the single emit does with the admin key", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const answer = await batch(merchant, [{ type: "a.b", data: {} }]);
    const stored = await herald.api("GET", `/v1/merchants/${merchant}/events/${answer.body.data[0].id}`);
    expect(stored.body.mode).toBe("live");
  });
});
