import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Herald, HeraldApiError, HeraldConnectionError, HeraldTimeoutError } from "@herald/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatted, typesFromOpenApi } from "../packages/sdk/scripts/generate-types.ts";
import { eventually, startTestHerald, type TestHerald } from "./support/herald.ts";
import { Receiver } from "./support/receiver.ts";

describe("@herald/sdk against a real Herald", () => {
  let server: TestHerald;
  let herald: Herald;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startTestHerald();
    herald = new Herald({ baseUrl: server.url, apiKey: server.adminKey });
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await server.stop();
  });

  it("keeps its generated types in step with the served OpenAPI document", async () => {
    const doc = (await server.api("GET", "/openapi.json", undefined, { key: null })).body;
    const file = new URL("../packages/sdk/src/types.gen.ts", import.meta.url);
    const generated = formatted(typesFromOpenApi(doc));
    // After an API change: npm start, then node packages/sdk/scripts/generate-types.ts <its /openapi.json>
    expect(generated, "packages/sdk/src/types.gen.ts is stale: regenerate it").toBe(
      readFileSync(file, "utf8"),
    );
  });

  it("walks every resource: merchants, keys, endpoints, events, deliveries, recovery, stats, policies", async () => {
    const merchant = await herald.merchants.create({ name: "SDK walk", metadata: { plan: "pro" } });
    expect((await herald.merchants.get(merchant.id)).metadata).toEqual({ plan: "pro" });
    expect((await herald.merchants.update(merchant.id, { name: "SDK walk 2" })).name).toBe("SDK walk 2");

    const key = await herald.apiKeys.create(merchant.id, { mode: "test" });
    const asMerchant = new Herald({ baseUrl: server.url, apiKey: key.key });
    expect((await herald.apiKeys.list(merchant.id)).data.map((k) => k.id)).toContain(key.id);

    const endpoint = await asMerchant.endpoints.create(merchant.id, {
      url: `${receiver.url}/hooks`,
      event_types: ["payment.*"],
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await asMerchant.endpoints.get(merchant.id, endpoint.id)).mode).toBe("test");
    await asMerchant.endpoints.update(merchant.id, endpoint.id, { description: "from the SDK" });
    const rotated = await asMerchant.endpoints.rotateSecret(merchant.id, endpoint.id);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const tested = await asMerchant.endpoints.test(merchant.id, endpoint.id);
    expect(tested.delivery_id).toMatch(/^dlv_|_/);

    const emitted = await asMerchant.events.emit(merchant.id, {
      type: "payment.succeeded",
      data: { amount: 4999 },
    });
    expect(emitted.deliveries).toBe(1);
    expect((await asMerchant.events.get(merchant.id, emitted.id)).data).toEqual({ amount: 4999 });
    const delivery = await eventually(async () => {
      const [found] = (await asMerchant.deliveries.list(merchant.id, { event_id: emitted.id })).data;
      return found?.status === "succeeded" ? found : undefined;
    });
    expect((await asMerchant.deliveries.get(merchant.id, delivery.id)).attempts.length).toBe(1);
    expect((await asMerchant.deliveries.retry(merchant.id, delivery.id)).id).toBe(delivery.id);
    expect((await asMerchant.events.resend(merchant.id, emitted.id)).deliveries).toHaveLength(1);
    const batch = await herald.events.emitBatch(merchant.id, {
      events: [{ type: "payment.refunded", data: {}, idempotency_key: "b1" }],
    });
    expect(batch.data).toHaveLength(1);

    const operation = await asMerchant.endpoints.recover(merchant.id, endpoint.id, {
      since: new Date(Date.now() - 3_600_000).toISOString(),
    });
    expect((await asMerchant.operations.get(merchant.id, operation.id)).id).toBe(operation.id);
    expect(await asMerchant.endpoints.stats(merchant.id, endpoint.id)).toBeDefined();
    expect(await asMerchant.stats.merchant(merchant.id)).toBeDefined();
    expect((await asMerchant.endpoints.attempts(merchant.id, endpoint.id)).data.length).toBeGreaterThan(0);
    expect((await herald.retryPolicies.list()).data.map((p) => p.name)).toEqual([
      "live",
      "test",
      "exponential",
    ]);

    await asMerchant.endpoints.delete(merchant.id, endpoint.id);
    await herald.apiKeys.revoke(merchant.id, key.id);
    await herald.merchants.delete(merchant.id);
  });

  it("iterates a list across pages", async () => {
    const merchant = await herald.merchants.create({ name: "Pages" });
    const created = [];
    for (let i = 0; i < 5; i++)
      created.push((await herald.events.emit(merchant.id, { type: `page.n${i}`, data: { i } })).id);
    const seen = [];
    for await (const event of herald.events.iterate(merchant.id, { limit: 2 })) seen.push(event.id);
    expect(seen.sort()).toEqual(created.sort());
  });

  it("throws typed errors carrying the problem's type, detail and field", async () => {
    const merchant = await herald.merchants.create({ name: "Errors" });
    const error = await herald.endpoints
      .create(merchant.id, { url: "ftp://nowhere" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldApiError);
    expect(error).toMatchObject({
      status: 400,
      kind: "validation",
      field: "url",
      type: "urn:herald:problem:validation",
    });
    expect((error as HeraldApiError).detail).toMatch(/url/);
    expect((error as HeraldApiError).requestId).toBeTruthy();
    const missing = await herald.endpoints.get(merchant.id, "ep_nothing").catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, kind: "not_found" });
    const bad = new Herald({ baseUrl: server.url, apiKey: "hk_test_wrong" });
    expect(await bad.merchants.list().catch((e: unknown) => e)).toMatchObject({
      status: 401,
      kind: "unauthorized",
    });
  });

  it("retries an emit whose answer was lost under the same idempotency key: one event is stored", async () => {
    const merchant = await herald.merchants.create({ name: "Lost answers" });
    const keys: string[] = [];
    let calls = 0;
    // The request reaches Herald, but the first answer never reaches the client.
    const losing: typeof fetch = async (input, init) => {
      keys.push(new Headers(init?.headers).get("idempotency-key")!);
      const response = await fetch(input, init);
      if (++calls === 1) throw new TypeError("fetch failed: connection reset");
      return response;
    };
    const flaky = new Herald({ baseUrl: server.url, apiKey: server.adminKey, fetch: losing });
    const emitted = await flaky.events.emit(merchant.id, { type: "order.paid", data: { n: 1 } });
    expect(calls).toBe(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    const events = await herald.events.list(merchant.id);
    expect(events.data.map((e) => e.id)).toEqual([emitted.id]);

    const mine = await flaky.events.emit(
      merchant.id,
      { type: "order.paid", data: { n: 1 } },
      { idempotencyKey: "order-1" },
    );
    expect(keys.at(-1)).toBe("order-1");
    const again = await herald.events.emit(
      merchant.id,
      { type: "order.paid", data: { n: 1 } },
      { idempotencyKey: "order-1" },
    );
    expect(again.id).toBe(mine.id);
  });

  it("retries 503s a bounded number of times, and never retries a create that is not idempotent", async () => {
    let requests = 0;
    const unavailable = createServer((_req, res) => {
      requests++;
      res.writeHead(503, { "content-type": "application/problem+json", "retry-after": "0" });
      res.end(
        JSON.stringify({
          type: "urn:herald:problem:service_unavailable",
          title: "Service unavailable",
          status: 503,
          detail: "down",
        }),
      );
    });
    await new Promise<void>((resolve) => unavailable.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(unavailable.address() as AddressInfo).port}`;
    const client = new Herald({ baseUrl: base, apiKey: "k", maxRetries: 3 });
    const error = await client.events.emit("mer_x", { type: "a.b", data: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, kind: "service_unavailable" });
    expect(requests).toBe(4);
    requests = 0;
    await client.merchants.create({ name: "x" }).catch(() => undefined);
    expect(requests).toBe(1);
    unavailable.close();
  });

  it("gives up on a silent server after its timeout, with a timeout error", async () => {
    let requests = 0;
    const silent = createServer(() => {
      requests++;
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const client = new Herald({ baseUrl: base, apiKey: "k", timeoutMs: 100, maxRetries: 1 });
    const error = await client.deliveries.list("mer_x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldTimeoutError);
    expect(error).toBeInstanceOf(HeraldConnectionError);
    expect(requests).toBe(2);
    silent.closeAllConnections();
    silent.close();
  });
});
