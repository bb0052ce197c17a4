import { newId } from "@herald/core";
import { endpointAttempts } from "@herald/db";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald, useReceivers } from "./support/fixture.ts";

describe("the attempt log shows what was sent and what came back", () => {
  const scene = useHerald({
    receiver: (request) =>
      request.path.startsWith("/big")
        ? { status: 201, headers: { "x-receipt": "r-42" }, body: "a".repeat(100_000) }
        : { status: 200, body: "ok" },
  });
  const startReceiver = useReceivers();

  async function deliver(merchant: string, endpointId: string, data: unknown = {}) {
    const { herald } = scene;
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data,
    });
    const list = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries?event_id=${emitted.body.id}&endpoint_id=${endpointId}`,
    );
    return eventually(async () => {
      const d = (await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${list.body.data[0].id}`))
        .body;
      return d.attempts.length > 0 ? d : undefined;
    });
  }

  it("request URL, headers with signature values and no secret, the exact body bytes, trigger and timing", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/big/hooks?src=herald`,
      headers: { "x-team": "payments" },
    });
    const delivery = await deliver(merchant, endpoint.id, { note: "crème brûlée ✓", n: [1, 2.5] });
    const got = receiver.received.find((r) => r.headers["webhook-id"] === delivery.event_id)!;
    const [attempt] = delivery.attempts;

    expect(attempt.request.url).toBe(`${receiver.url}/big/hooks?src=herald`);
    expect(attempt.request.body).toBe(got.body);
    expect(Buffer.from(attempt.request.body).equals(Buffer.from(got.body))).toBe(true);
    for (const name of [
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
      "user-agent",
      "content-type",
      "x-team",
    ]) {
      expect(attempt.request.headers[name]).toBe(got.headers[name]);
    }
    expect(attempt.request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const answer = JSON.stringify(
      await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${delivery.id}`),
    );
    expect(answer).not.toContain(endpoint.secret);
    expect(answer).not.toContain(endpoint.secret.slice("whsec_".length));

    expect(attempt).toMatchObject({ number: 1, trigger: "scheduled", response_status: 201, error: null });
    expect(attempt.scheduled_at).toBe(delivery.created_at);
    expect(Date.parse(attempt.started_at)).toBeGreaterThanOrEqual(Date.parse(attempt.scheduled_at));
    expect(Number.isInteger(attempt.duration_ms)).toBe(true);
  });

  it("the response status, headers, and body capped at 64 KiB", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/big` });
    const [attempt] = (await deliver(merchant, endpoint.id)).attempts;
    expect(attempt.response_status).toBe(201);
    expect(attempt.response_headers["x-receipt"]).toBe("r-42");
    expect(attempt.response_body).toBe("a".repeat(64 * 1024));
  });

  it("a hex-signed endpoint shows its signature header, not its secret", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/hex`,
      signature_scheme: "hmac-sha256-hex",
    });
    const delivery = await deliver(merchant, endpoint.id);
    const headers = delivery.attempts[0].request.headers;
    expect(headers["x-signature"]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(delivery)).not.toContain(endpoint.secret);
  });

  it("how long the receiver took, and the error class when none answered", async () => {
    const { herald } = scene;
    const slow = await startReceiver({ delayMs: 300, body: "late" });
    const slowMerchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, slowMerchant, { url: `${slow.url}/` });
    const [timed] = (await deliver(slowMerchant, endpoint.id)).attempts;
    expect(timed.response_body).toBe("late");
    // A lower bound only: a busy machine makes any attempt slower, never faster.
    expect(timed.duration_ms).toBeGreaterThanOrEqual(295);

    const merchant = await createMerchant(herald);
    // Nothing listens on the discard port.
    const refused = await createEndpoint(herald, merchant, {
      url: "http://127.0.0.1:9/",
      retry_policy: { custom: [3600] },
    });
    const [attempt] = (await deliver(merchant, refused.id)).attempts;
    expect(attempt).toMatchObject({
      error: "connection_refused",
      response_status: null,
      response_headers: null,
      response_body: null,
    });
  });
});

describe("an endpoint's attempts, newest first", () => {
  const scene = useHerald({ dispatcher: false });

  /** Stores `count` attempts of one delivery on `endpointId`, with sortable ids made in SQL. */
  async function bulkAttempts(merchant: string, endpointId: string, tag: string, count: number) {
    const { herald } = scene;
    const { db } = herald.database;
    const eventId = newId("event");
    await db
      .insertInto("events")
      .values({
        id: eventId,
        merchant_id: merchant,
        mode: "test",
        type: "bulk.load",
        body: "{}",
        created_at: new Date(),
      })
      .execute();
    const deliveryId = newId("delivery");
    await db
      .insertInto("deliveries")
      .values({
        id: deliveryId,
        merchant_id: merchant,
        mode: "test",
        event_id: eventId,
        endpoint_id: endpointId,
        event_type: "bulk.load",
        status: "failed",
        next_attempt_at: null,
        created_at: new Date(),
      })
      .execute();
    // Digits are valid in the ids' base32, so these ids sort as the numbers do, after `tag`.
    await sql`
      INSERT INTO attempts (id, delivery_id, endpoint_id, number, trigger, scheduled_at, started_at, duration_ms,
        request_url, request_headers, response_status, response_body, error)
      SELECT 'att_' || ${tag} || lpad(n::text, 25, '0'), ${deliveryId}, ${endpointId}, n, 'scheduled', now(), now(), 12,
        'http://127.0.0.1:9/', '{"webhook-signature":"v1,abc"}', 500, 'nope', 'http_status'
      FROM generate_series(1, ${count}) AS n
    `.execute(db);
    return { eventId, deliveryId };
  }

  it("pages newest first with a cursor, each with its delivery and event, without the body", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/" });
    const { eventId, deliveryId } = await bulkAttempts(merchant, endpoint.id, "0", 5);
    const path = `/v1/merchants/${merchant}/endpoints/${endpoint.id}/attempts`;

    const first = await herald.api("GET", `${path}?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data.map((a: { number: number }) => a.number)).toEqual([5, 4]);
    expect(first.body.data[0]).toMatchObject({
      delivery_id: deliveryId,
      event_id: eventId,
      event_type: "bulk.load",
      trigger: "scheduled",
      response_status: 500,
      error: "http_status",
      request: { url: "http://127.0.0.1:9/", headers: { "webhook-signature": "v1,abc" } },
    });
    expect(first.body.data[0].request.body).toBeUndefined();
    const second = await herald.api("GET", `${path}?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((a: { number: number }) => a.number)).toEqual([3, 2]);
    const last = await herald.api("GET", `${path}?limit=2&cursor=${second.body.next_cursor}`);
    expect(last.body).toMatchObject({ next_cursor: null });
    expect(last.body.data.map((a: { number: number }) => a.number)).toEqual([1]);

    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    expect((await herald.api("GET", path, undefined, { key: otherKey })).status).toBe(404);
    const liveKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "live" })).body
      .key;
    expect((await herald.api("GET", path, undefined, { key: liveKey })).status).toBe(404);
  });

  it("the last 50 of one endpoint walk the attempts_endpoint index, however many attempts there are", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const quiet = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/quiet" });
    const busy = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/busy" });
    // The quiet endpoint's attempts are all older than the busy one's: walking the primary key
    // backwards would read all 100,000 of those first.
    await bulkAttempts(merchant, quiet.id, "1", 25_000);
    await bulkAttempts(merchant, busy.id, "2", 100_000);
    const { db } = herald.database;
    await sql`ANALYZE attempts`.execute(db);

    const plan = await endpointAttempts(db, quiet.id).orderBy("a.id", "desc").limit(51).explain();
    expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).toMatch(
      /Index Scan Backward using attempts_endpoint/,
    );

    // The route runs that query: it answers the quiet endpoint's newest 50.
    const answer = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/endpoints/${quiet.id}/attempts?limit=50`,
    );
    expect(answer.body.data).toHaveLength(50);
  }, 120_000);
});
