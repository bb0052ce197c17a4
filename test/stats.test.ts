import { newId } from "@herald/core";
import type { DeliveryStatus } from "@herald/db";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  eventually,
  merchantWithEndpoint,
  useHerald,
} from "./support/fixture.ts";

const hour = 3_600_000;

describe("delivery statistics per endpoint and per merchant", () => {
  const scene = useHerald({ dispatcher: false });
  let merchant: string;
  let main: { id: string };
  let second: { id: string };
  let live: { id: string };

  /** Stores one delivery created `ago` ms back, with attempts of these durations (null: succeeded). */
  async function seed(
    endpoint: { id: string },
    mode: "live" | "test",
    ago: number,
    status: DeliveryStatus,
    attempts: { ms: number; error?: string }[],
  ) {
    const { herald } = scene;
    const at = new Date(Date.now() - ago);
    const { db } = herald.database;
    const eventId = newId("event", at.getTime());
    await db
      .insertInto("events")
      .values({ id: eventId, merchant_id: merchant, mode, type: "a.b", body: "{}", created_at: at })
      .execute();
    const deliveryId = newId("delivery", at.getTime());
    await db
      .insertInto("deliveries")
      .values({
        id: deliveryId,
        merchant_id: merchant,
        mode,
        event_id: eventId,
        endpoint_id: endpoint.id,
        event_type: "a.b",
        status,
        attempt_count: attempts.length,
        next_attempt_at: null,
        created_at: at,
      })
      .execute();
    for (const [i, attempt] of attempts.entries()) {
      const started = new Date(at.getTime() + i * 1000);
      await db
        .insertInto("attempts")
        .values({
          id: newId("attempt", started.getTime()),
          delivery_id: deliveryId,
          endpoint_id: endpoint.id,
          number: i + 1,
          trigger: "scheduled",
          scheduled_at: started,
          started_at: started,
          duration_ms: attempt.ms,
          request_url: "http://127.0.0.1:9/",
          request_headers: "{}",
          response_status: attempt.error ? 500 : 200,
          error: attempt.error ?? null,
        })
        .execute();
    }
  }

  beforeAll(async () => {
    const { herald } = scene;
    merchant = await createMerchant(herald);
    main = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/main" });
    second = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/second" });
    live = await createEndpoint(herald, merchant, { url: "https://example.com/hooks", mode: "live" });
    await seed(main, "test", 2 * hour, "succeeded", [{ ms: 10 }]);
    await seed(main, "test", 3 * hour, "succeeded", [{ ms: 40, error: "http_status" }, { ms: 20 }]);
    await seed(main, "test", 4 * hour, "failed", [{ ms: 100, error: "timeout" }]);
    await seed(main, "test", 1 * hour, "pending", [{ ms: 30, error: "connection_refused" }]);
    // Before the default window: counted only when the window reaches back to it.
    await seed(main, "test", 25 * hour, "failed", [{ ms: 9999, error: "timeout" }]);
    await seed(second, "test", 5 * hour, "succeeded", [{ ms: 50 }]);
    await seed(live, "live", 6 * hour, "succeeded", [{ ms: 7 }]);
  });

  it("an endpoint over the last 24 hours: attempts, success rate, p50/p95 latency, deliveries by status", async () => {
    const { herald } = scene;
    const answer = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${main.id}/stats`);
    expect(answer.status).toBe(200);
    expect(Date.parse(answer.body.until) - Date.parse(answer.body.since)).toBe(24 * hour);
    // Durations 10, 20, 30, 40, 100: p95 interpolates 80 % of the way from 40 to 100.
    expect(answer.body).toMatchObject({
      endpoint_id: main.id,
      attempts: {
        total: 5,
        succeeded: 2,
        failed: 3,
        success_rate: 0.4,
        latency_p50_ms: 30,
        latency_p95_ms: 88,
      },
      deliveries: { total: 4, pending: 1, succeeded: 2, failed: 1, cancelled: 0 },
    });
  });

  it("a window given by since and until", async () => {
    const { herald } = scene;
    const since = new Date(Date.now() - 26 * hour).toISOString();
    const until = new Date(Date.now() - 2.5 * hour).toISOString();
    const answer = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/endpoints/${main.id}/stats?since=${since}&until=${until}`,
    );
    expect(answer.body).toMatchObject({
      since,
      until,
      attempts: { total: 4, succeeded: 1, failed: 3 },
      deliveries: { total: 3, pending: 0, succeeded: 1, failed: 2 },
    });
  });

  it("merchant totals, by mode, and within what a mode-bound key may see", async () => {
    const { herald } = scene;
    const test = await herald.api("GET", `/v1/merchants/${merchant}/stats?mode=test`);
    // Durations 10, 20, 30, 40, 50, 100: the median falls between 30 and 40.
    expect(test.body).toMatchObject({
      merchant_id: merchant,
      mode: "test",
      attempts: {
        total: 6,
        succeeded: 3,
        failed: 3,
        success_rate: 0.5,
        latency_p50_ms: 35,
        latency_p95_ms: 87.5,
      },
      deliveries: { total: 5, pending: 1, succeeded: 3, failed: 1 },
    });
    const both = await herald.api("GET", `/v1/merchants/${merchant}/stats`);
    expect(both.body).toMatchObject({
      mode: null,
      attempts: { total: 7, succeeded: 4 },
      deliveries: { total: 6 },
    });

    const liveKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "live" })).body
      .key;
    const own = await herald.api("GET", `/v1/merchants/${merchant}/stats`, undefined, { key: liveKey });
    expect(own.body).toMatchObject({
      mode: "live",
      attempts: { total: 1, latency_p50_ms: 7 },
      deliveries: { total: 1 },
    });
    expect(
      (await herald.api("GET", `/v1/merchants/${merchant}/stats?mode=test`, undefined, { key: liveKey }))
        .status,
    ).toBe(403);
    expect(
      (
        await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${main.id}/stats`, undefined, {
          key: liveKey,
        })
      ).status,
    ).toBe(404);
  });

  it("an endpoint without attempts has a null rate and null latencies; bad windows are refused", async () => {
    const { herald } = scene;
    const idle = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/idle" });
    const answer = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${idle.id}/stats`);
    expect(answer.body.attempts).toEqual({
      total: 0,
      succeeded: 0,
      failed: 0,
      success_rate: null,
      latency_p50_ms: null,
      latency_p95_ms: null,
    });
    const now = Date.now();
    const path = `/v1/merchants/${merchant}/endpoints/${idle.id}/stats`;
    const reversed = await herald.api(
      "GET",
      `${path}?since=${new Date(now).toISOString()}&until=${new Date(now - 1).toISOString()}`,
    );
    expect(reversed.status).toBe(400);
    const tooLong = await herald.api("GET", `${path}?since=${new Date(now - 32 * 24 * hour).toISOString()}`);
    expect(tooLong.status).toBe(400);
  });
});

describe("statistics follow real deliveries", () => {
  const scene = useHerald();

  it("counts an attempt made to a real receiver", async () => {
    const { herald, receiver } = scene;
    const { merchant, endpoint } = await merchantWithEndpoint(herald, { url: receiver.url });
    await herald.api("POST", `/v1/merchants/${merchant}/events`, { type: "a.b", mode: "test", data: {} });
    const stats = await eventually(async () => {
      const body = (await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/stats`)).body;
      return body.deliveries.succeeded === 1 ? body : undefined;
    });
    expect(stats.attempts).toMatchObject({ total: 1, succeeded: 1, failed: 0, success_rate: 1 });
    expect(stats.attempts.latency_p50_ms).toBe(stats.attempts.latency_p95_ms);
  });
});
