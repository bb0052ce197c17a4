import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMerchant, eventually, startTestHerald, type TestHerald } from "./support/herald.ts";

const paymentSchema = {
  type: "object",
  required: ["amount", "currency"],
  properties: {
    amount: { type: "integer", minimum: 1 },
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    customer: { type: "object", properties: { email: { type: "string", format: "email" } } },
  },
};

describe("the event-type catalog: admin writes it, every key reads it, emits are checked against it", () => {
  let herald: TestHerald;
  let merchant: string;
  let merchantKey: string;

  beforeAll(async () => {
    herald = await startTestHerald();
    merchant = await createMerchant(herald);
    merchantKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
  });
  afterAll(async () => {
    await herald.stop();
  });

  const emit = (type: string, data: unknown) =>
    herald.api("POST", `/v1/merchants/${merchant}/events`, { type, mode: "test", data });

  it("an admin adds a type with a schema and example; a merchant key reads it but cannot write", async () => {
    const created = await herald.api("POST", "/v1/event-types", {
      name: "payment.succeeded",
      description: "A payment was captured.",
      schema: paymentSchema,
      example: { amount: 2500, currency: "PKR" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: "payment.succeeded",
      group: "payment",
      description: "A payment was captured.",
      schema: paymentSchema,
      example: { amount: 2500, currency: "PKR" },
      deprecated: false,
      created_at: expect.any(String),
      updated_at: created.body.created_at,
    });

    const read = await herald.api("GET", "/v1/event-types/payment.succeeded", undefined, {
      key: merchantKey,
    });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    const listed = await herald.api("GET", "/v1/event-types", undefined, { key: merchantKey });
    expect(listed.body.data.map((t: { name: string }) => t.name)).toContain("payment.succeeded");

    for (const [method, path, body] of [
      ["POST", "/v1/event-types", { name: "merchant.made" }],
      ["PATCH", "/v1/event-types/payment.succeeded", { deprecated: true }],
      ["DELETE", "/v1/event-types/payment.succeeded", undefined],
    ] as const) {
      const refused = await herald.api(method, path, body, { key: merchantKey });
      expect(refused.status, `${method} ${path}`).toBe(403);
    }
    expect((await herald.api("GET", "/v1/event-types/payment.succeeded")).body.deprecated).toBe(false);
  });

  it("refuses an unusable schema, an example the schema rejects, a taken name, naming the field", async () => {
    const cases: [unknown, number, string][] = [
      [{ name: "bad.schema", schema: { type: "objekt" } }, 400, "schema"],
      [{ name: "bad.keyword", schema: { type: "object", propertees: {} } }, 400, "schema"],
      [{ name: "bad.format", schema: { type: "string", format: "colour" } }, 400, "schema"],
      [{ name: "bad.ref", schema: { $ref: "https://example.com/schema.json" } }, 400, "schema"],
      [
        { name: "bad.example", schema: paymentSchema, example: { amount: 0, currency: "PKR" } },
        400,
        "example.amount",
      ],
      [{ name: "bad.missing", schema: paymentSchema, example: { amount: 5 } }, 400, "example.currency"],
      [{ name: "bad..name" }, 400, "name"],
      [{ name: "payment.succeeded" }, 409, "name"],
      [{ name: "big.schema", schema: { description: "x".repeat(70_000) } }, 400, "schema"],
    ];
    for (const [body, status, field] of cases) {
      const answer = await herald.api("POST", "/v1/event-types", body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body.field, JSON.stringify(body).slice(0, 80)).toBe(field);
    }
    // Valid JSON Schema that is only a matter of style is accepted.
    const styled = await herald.api("POST", "/v1/event-types", {
      name: "styled.schema",
      schema: { properties: { note: { type: ["string", "null"] } }, prefixItems: [{ type: "integer" }] },
      example: { note: null },
    });
    expect(styled.status, JSON.stringify(styled.body)).toBe(201);
    // A new schema the stored example breaks is refused too.
    const patched = await herald.api("PATCH", "/v1/event-types/payment.succeeded", {
      schema: {
        ...paymentSchema,
        properties: { ...paymentSchema.properties, amount: { type: "integer", minimum: 5000 } },
      },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.field).toBe("example.amount");
    expect((await herald.api("GET", "/v1/event-types/bad.schema")).status).toBe(404);
  });

  it("emitting data the type's schema rejects answers 400 naming the JSON path; valid data is emitted", async () => {
    expect((await emit("payment.succeeded", { amount: 2500, currency: "PKR" })).status).toBe(202);
    const cases: [unknown, string][] = [
      [{ amount: "2500", currency: "PKR" }, "data.amount"],
      [{ currency: "PKR" }, "data.amount"],
      [{ amount: 1, currency: "pkr" }, "data.currency"],
      [{ amount: 1, currency: "PKR", customer: { email: "not an address" } }, "data.customer.email"],
    ];
    for (const [data, field] of cases) {
      const answer = await emit("payment.succeeded", data);
      expect(answer.status, JSON.stringify(data)).toBe(400);
      expect(answer.body.field).toBe(field);
      expect(answer.body.detail).toContain(field);
    }
    // A type the catalog does not list is not checked while HERALD_REQUIRE_KNOWN_TYPES is off.
    expect((await emit("anything.goes", { free: true })).status).toBe(202);

    const batch = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: [
        { type: "payment.succeeded", mode: "test", data: { amount: 1, currency: "PKR" } },
        { type: "payment.succeeded", mode: "test", data: { amount: -1, currency: "PKR" } },
      ],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.field).toBe("events.1.data.amount");
  });

  it("a changed schema applies to the next emit at once, and through another API process within a second", async () => {
    await herald.api("POST", "/v1/event-types", { name: "refund.created", schema: { type: "object" } });
    const other = await startTestHerald({ HERALD_TEST_NO_DISPATCHER: "1" }, { sameDatabaseAs: herald });
    try {
      const emitThrough = (h: TestHerald) =>
        h.api("POST", `/v1/merchants/${merchant}/events`, {
          type: "refund.created",
          mode: "test",
          data: { amount: 1 },
        });
      expect((await emitThrough(other)).status).toBe(202);

      const changed = await herald.api("PATCH", "/v1/event-types/refund.created", {
        schema: { type: "object", properties: { amount: { type: "string" } } },
      });
      expect(changed.status).toBe(200);
      expect(changed.body.updated_at > changed.body.created_at).toBe(true);
      expect((await emitThrough(herald)).body.field).toBe("data.amount");
      await eventually(async () => ((await emitThrough(other)).status === 400 ? true : undefined));

      // Removing the schema, then the type, stops the checks in both.
      await herald.api("PATCH", "/v1/event-types/refund.created", { schema: null });
      expect((await emitThrough(herald)).status).toBe(202);
      await herald.api("PATCH", "/v1/event-types/refund.created", {
        schema: { type: "object", required: ["x"] },
      });
      expect((await herald.api("DELETE", "/v1/event-types/refund.created")).status).toBe(204);
      expect((await emitThrough(herald)).status).toBe(202);
      await eventually(async () => ((await emitThrough(other)).status === 202 ? true : undefined));
    } finally {
      await other.stop();
    }
  });

  it("lists in name order, by page, by prefix, grouped, and hides deprecated types unless asked", async () => {
    for (const name of [
      "order.placed",
      "order.shipped",
      "order.cancelled",
      "order.refund.issued",
      "orders",
      "ping",
    ])
      expect((await herald.api("POST", "/v1/event-types", { name })).status).toBe(201);
    await herald.api("PATCH", "/v1/event-types/order.cancelled", { deprecated: true });

    const names = async (query: string) => {
      const answer = await herald.api("GET", `/v1/event-types${query}`, undefined, { key: merchantKey });
      expect(answer.status, query).toBe(200);
      return answer.body.data.map((t: { name: string }) => t.name);
    };
    expect(await names("?prefix=order")).toEqual(["order.placed", "order.refund.issued", "order.shipped"]);
    expect(await names("?prefix=order.*&include_deprecated=true")).toEqual([
      "order.cancelled",
      "order.placed",
      "order.refund.issued",
      "order.shipped",
    ]);
    expect(await names("?prefix=order.refund")).toEqual(["order.refund.issued"]);

    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const answer = await herald.api("GET", `/v1/event-types?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(answer.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...answer.body.data.map((t: { name: string }) => t.name));
      cursor = answer.body.next_cursor;
    }
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(await names("?limit=100"));
    expect(seen).not.toContain("order.cancelled");

    const groups = await herald.api("GET", "/v1/event-type-groups", undefined, { key: merchantKey });
    expect(groups.body.data).toContainEqual({
      group: "order",
      types: ["order.placed", "order.refund.issued", "order.shipped"],
    });
    expect(groups.body.data).toContainEqual({ group: "orders", types: ["orders"] });
    expect(groups.body.data.map((g: { group: string }) => g.group)).toEqual(
      [...groups.body.data.map((g: { group: string }) => g.group)].sort(),
    );
  });
});

describe("with HERALD_REQUIRE_KNOWN_TYPES=true only catalogued types are emitted or subscribed to", () => {
  let herald: TestHerald;
  let merchant: string;

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_REQUIRE_KNOWN_TYPES: "true" });
    merchant = await createMerchant(herald);
    await herald.api("POST", "/v1/event-types", { name: "payment.succeeded" });
    await herald.api("POST", "/v1/event-types", { name: "payment.failed" });
  });
  afterAll(async () => {
    await herald.stop();
  });

  it("refuses an unknown type on emit and in a batch, naming the field", async () => {
    const known = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.failed",
      mode: "test",
      data: {},
    });
    expect(known.status).toBe(202);
    const unknown = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeded",
      mode: "test",
      data: {},
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.field).toBe("type");
    const batch = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: [
        { type: "payment.failed", mode: "test", data: {} },
        { type: "payout.sent", mode: "test", data: {} },
      ],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.field).toBe("events.1.type");
  });

  it("refuses endpoint filters that match no catalogued type; wildcards that match one are fine", async () => {
    const endpoint = (event_types: string[]) =>
      herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
        url: "http://127.0.0.1:9/hook",
        mode: "test",
        event_types,
      });
    for (const filters of [["payment.*"], ["*"], ["payment.succeeded", "payment.failed"], []])
      expect((await endpoint(filters)).status, filters.join()).toBe(201);
    const refused = await endpoint(["payment.*", "payout.*"]);
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe("event_types.1");

    const id = (await endpoint(["payment.*"])).body.id;
    const patched = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${id}`, {
      event_types: ["payment.succeded"],
    });
    expect(patched.status).toBe(400);
    expect(patched.body.field).toBe("event_types.0");
  });

  it("herald.emit refuses an unknown type too", async () => {
    await expect(
      herald.database.pool.query("SELECT herald.emit($1, 'test', 'payout.sent', '{}')", [merchant]),
    ).rejects.toMatchObject({ code: "22023", detail: "field: type" });
    const { rows } = await herald.database.pool.query(
      "SELECT herald.emit($1, 'test', 'payment.failed', '{}') AS id",
      [merchant],
    );
    expect(rows[0].id).toMatch(/^evt_/);
  });
});
