import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { createMerchant, useHerald } from "./support/fixture.ts";

/** A single-emit body of exactly `bytes` bytes. */
function bodyOfSize(bytes: number): string {
  const frame = '{"type":"a.b","mode":"test","data":{"pad":""}}';
  return frame.replace('"pad":""', `"pad":"${"x".repeat(bytes - frame.length)}"`);
}

function expectProblem(
  answer: { status: number; headers: Headers; body: unknown },
  status: number,
  kind: string,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ type: `urn:herald:problem:${kind}`, status });
}

describe("emit refuses what it cannot store or deliver as sent, with a problem+json", () => {
  const scene = useHerald({ dispatcher: false });
  let merchant: string;

  beforeAll(async () => {
    const { herald } = scene;
    merchant = await createMerchant(herald);
  });

  const emit = (body: unknown, options?: { key?: string | null; headers?: Record<string, string> }) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/events`, body, options);
  const batch = (events: unknown) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/events/batch`, { events });

  async function storedEvents(): Promise<number> {
    const { herald } = scene;
    const { rows } = await sql<{ n: number }>`
      SELECT count(*) AS n FROM events WHERE merchant_id = ${merchant}
    `.execute(herald.database.db);
    return rows[0]!.n;
  }

  it("a body of 256 KiB is accepted, one byte more is 413", async () => {
    const atLimit = bodyOfSize(256 * 1024);
    const overLimit = bodyOfSize(256 * 1024 + 1);
    expect(Buffer.byteLength(atLimit)).toBe(262_144);

    expect((await emit(atLimit)).status).toBe(202);
    const refused = await emit(overLimit);
    expectProblem(refused, 413, "payload_too_large");
  });

  it("a batch may be larger than one event's limit, but no event's data may exceed it", async () => {
    const pad = "x".repeat(200 * 1024);
    const before = await storedEvents();
    const fits = await batch(Array.from({ length: 5 }, (_, i) => ({ type: "a.b", data: { i, pad } })));
    expect(fits.status).toBe(202);
    expect(fits.body.data).toHaveLength(5);

    const tooLarge = await batch([
      { type: "a.b", data: {} },
      { type: "a.b", data: { pad: "x".repeat(256 * 1024) } },
    ]);
    expectProblem(tooLarge, 413, "payload_too_large");
    expect(tooLarge.body.field).toBe("events.1.data");
    expect(await storedEvents()).toBe(before + 5);
  });

  it("a batch body over 16 MiB is 413", async () => {
    const pad = "x".repeat(1024 * 1024);
    const answer = await batch(Array.from({ length: 17 }, () => ({ type: "a.b", data: { pad } })));
    expectProblem(answer, 413, "payload_too_large");
  });

  it("a batch holds 1 to 1 000 events", async () => {
    expectProblem(await batch([]), 400, "validation");
    const tooMany = await batch(Array.from({ length: 1001 }, () => ({ type: "a.b", data: {} })));
    expectProblem(tooMany, 400, "validation");
    expect(tooMany.body.field).toBe("events");
  });

  it("event types are dotted names of [a-zA-Z0-9_-], at most 128 characters", async () => {
    const longest = `${"a".repeat(63)}.${"b".repeat(64)}`;
    expect(longest).toHaveLength(128);
    for (const type of ["payment.succeeded", "a", "A_b-9.c", longest]) {
      expect((await emit({ type, data: {} })).status, type).toBe(202);
    }
    for (const type of [
      "",
      `${longest}c`,
      "payment succeeded",
      "payment..failed",
      ".payment",
      "payment.",
      "payment/failed",
      "paiement.réussi",
      "payment.*",
    ]) {
      const answer = await emit({ type, data: {} });
      expectProblem(answer, 400, "validation");
      expect(answer.body.field, type).toBe("type");
    }
  });

  it("data must be a JSON object", async () => {
    for (const data of [[], [1, 2], "text", 42, true, null]) {
      const answer = await emit({ type: "a.b", data });
      expectProblem(answer, 400, "validation");
      expect(answer.body.field, JSON.stringify(data)).toBe("data");
    }
    const missing = await emit({ type: "a.b" });
    expectProblem(missing, 400, "validation");
    expect(missing.body.field).toBe("data");
  });

  it("unknown fields, a bad mode, malformed JSON and other media types are refused", async () => {
    const unknown = await emit({ type: "a.b", data: {}, payload: {} });
    expectProblem(unknown, 400, "validation");
    expect(unknown.body.field).toBe("payload");
    const badMode = await emit({ type: "a.b", data: {}, mode: "staging" });
    expectProblem(badMode, 400, "validation");
    expect(badMode.body.field).toBe("mode");
    expectProblem(await emit('{"type":"a.b","data":{}'), 400, "malformed_json");
    expectProblem(await emit(""), 400, "malformed_json");
    expectProblem(
      await emit('{"type":"a.b","data":{}}', { headers: { "content-type": "application/xml" } }),
      415,
      "unsupported_media_type",
    );
    const unknownInBatch = await batch([{ type: "a.b", data: {}, idempotencyKey: "k" }]);
    expectProblem(unknownInBatch, 400, "validation");
    expect(unknownInBatch.body.field).toBe("events.0.idempotencyKey");
  });

  it("a __proto__ key in data is refused rather than silently dropped", async () => {
    const answer = await emit('{"type":"a.b","data":{"__proto__":{"admin":true}}}');
    expect(answer.status).toBe(400);
    expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("an Idempotency-Key is 1 to 255 printable characters", async () => {
    expect(
      (await emit({ type: "a.b", data: {} }, { headers: { "idempotency-key": "k".repeat(255) } })).status,
    ).toBe(202);
    const tooLong = await emit(
      { type: "a.b", data: {} },
      { headers: { "idempotency-key": "k".repeat(256) } },
    );
    expectProblem(tooLong, 400, "validation");
    expect(tooLong.body.field).toBe("idempotency-key");
    const inBatch = await batch([{ type: "a.b", data: {}, idempotency_key: "tab\there" }]);
    expectProblem(inBatch, 400, "validation");
    expect(inBatch.body.field).toBe("events.0.idempotency_key");
  });

  it("nothing refused is stored", async () => {
    const before = await storedEvents();
    await emit({ type: "bad type", data: {} });
    await emit({ type: "a.b", data: [] });
    await emit(bodyOfSize(300 * 1024));
    await batch([
      { type: "a.b", data: {} },
      { type: "a.b", data: "no" },
    ]);
    expect(await storedEvents()).toBe(before);
  });

  it("who may emit: a key of the merchant for its own mode; batches need the admin key", async () => {
    const { herald } = scene;
    const testKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body
      .key;
    const other = await createMerchant(herald, "Other");

    expect((await emit({ type: "a.b", data: {} }, { key: testKey })).status).toBe(202);
    expectProblem(await emit({ type: "a.b", data: {}, mode: "live" }, { key: testKey }), 403, "forbidden");
    expectProblem(await emit({ type: "a.b", data: {} }, { key: null }), 401, "unauthorized");
    expectProblem(
      await herald.api("POST", `/v1/merchants/${other}/events`, { type: "a.b", data: {} }, { key: testKey }),
      404,
      "not_found",
    );
    expectProblem(
      await herald.api("POST", "/v1/merchants/mch_nope/events", { type: "a.b", data: {} }),
      404,
      "not_found",
    );
    expectProblem(
      await herald.api(
        "POST",
        `/v1/merchants/${merchant}/events/batch`,
        { events: [{ type: "a.b", data: {} }] },
        { key: testKey },
      ),
      403,
      "forbidden",
    );
  });

  it("the emit and batch routes are documented in OpenAPI with their limits and answers", async () => {
    const { herald } = scene;
    const doc = (await herald.api("GET", "/openapi.json")).body;
    const emitDoc = doc.paths["/v1/merchants/{mid}/events"].post;
    const batchDoc = doc.paths["/v1/merchants/{mid}/events/batch"].post;
    expect(Object.keys(emitDoc.responses)).toEqual(expect.arrayContaining(["202", "400", "409", "413"]));
    expect(emitDoc.parameters).toContainEqual(
      expect.objectContaining({ in: "header", name: "idempotency-key" }),
    );
    expect(batchDoc.requestBody.content["application/json"].schema.properties.events.maxItems).toBe(1000);
    expect(batchDoc.description).toContain("16 MiB");
    expect(doc.paths["/v1/merchants/{mid}/events/{evid}"].get.responses["200"]).toBeDefined();
  });
});

describe("HERALD_MAX_PAYLOAD_BYTES sets the emit body limit", () => {
  const scene = useHerald({ dispatcher: false, env: { HERALD_MAX_PAYLOAD_BYTES: "2048" } });

  it("a deployment's own limit applies to single emits and to each event of a batch", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const emit = (body: string) => herald.api("POST", `/v1/merchants/${merchant}/events`, body);
    expect((await emit(bodyOfSize(2048))).status).toBe(202);
    expectProblem(await emit(bodyOfSize(2049)), 413, "payload_too_large");
    const batch = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: [{ type: "a.b", data: { pad: "x".repeat(2100) } }],
    });
    expectProblem(batch, 413, "payload_too_large");
  });
});
