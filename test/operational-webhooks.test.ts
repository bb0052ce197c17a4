import { verify } from "@herald/verify";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  emit,
  eventually,
  merchantWithEndpoint,
  type Receiver,
  settledDelivery,
  useHerald,
  useReceivers,
} from "./support/fixture.ts";

interface OperatorEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

// Schedules and the failure window are scaled: an hour is 360 ms.
const env = { HERALD_RETRY_TIME_SCALE: "0.0001", HERALD_DISABLE_AFTER_HOURS: "1000" };

describe("operational webhooks tell the provider about its merchants' endpoints in trouble", () => {
  const scene = useHerald({ env });
  const startReceiver = useReceivers();

  async function operatorEndpoint(receiver: Receiver, fields: Record<string, unknown> = {}) {
    const answer = await scene.herald.api("POST", "/v1/operator-endpoints", {
      url: receiver.url,
      mode: "test",
      ...fields,
    });
    expect(answer.status).toBe(201);
    return answer.body as { id: string; secret: string };
  }

  /** Every operator event the receiver got, each checked against its signature. */
  async function heard(receiver: Receiver, secret: string): Promise<OperatorEvent[]> {
    return Promise.all(
      receiver.received.map(
        (r) => verify(r.body, r.headers as Record<string, string>, { secret }) as Promise<OperatorEvent>,
      ),
    );
  }

  it("a 410 disables the endpoint and the operator hears endpoint.disabled, signed; re-enabling sends endpoint.enabled", async () => {
    const { herald } = scene;
    const operator = await startReceiver();
    const { secret } = await operatorEndpoint(operator, {
      event_types: ["endpoint.disabled", "endpoint.enabled"],
    });
    const gone = await startReceiver({ status: 410 });
    const { merchant, endpoint } = await merchantWithEndpoint(herald, { url: gone.url });
    await settledDelivery(herald, await emit(herald, merchant));
    const disabled = await eventually(async () => {
      const events = await heard(operator, secret);
      return events.find((e) => e.type === "endpoint.disabled" && e.data.endpoint_id === endpoint.id);
    });
    expect(disabled.data).toMatchObject({ merchant_id: merchant, url: gone.url });
    expect(String(disabled.data.reason)).toMatch(/410/);

    const patched = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, {
      enabled: true,
    });
    expect(patched.status).toBe(200);
    const enabled = await eventually(async () =>
      (await heard(operator, secret)).find(
        (e) => e.type === "endpoint.enabled" && e.data.endpoint_id === endpoint.id,
      ),
    );
    expect(enabled.data).toMatchObject({ merchant_id: merchant });
    // Filtered: the first failure's endpoint.failing was not for this operator endpoint.
    expect(
      (await heard(operator, secret)).every(
        (e) => e.type.startsWith("endpoint.dis") || e.type === "endpoint.enabled",
      ),
    ).toBe(true);
  });

  it("an exhausted delivery sends delivery.exhausted, and a failing endpoint sends endpoint.failing at most once an hour", async () => {
    const { herald } = scene;
    const operator = await startReceiver();
    const { secret } = await operatorEndpoint(operator);
    const failing = await startReceiver({ status: 500 });
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: failing.url,
      retry_policy: { custom: [60, 60] },
    });
    const first = await settledDelivery(herald, await emit(herald, merchant));
    const second = await settledDelivery(herald, await emit(herald, merchant));
    expect(first.delivery.status).toBe("failed");
    const events = await eventually(async () => {
      const all = await heard(operator, secret);
      return all.filter((e) => e.type === "delivery.exhausted").length >= 2 ? all : undefined;
    });
    const exhausted = events.filter((e) => e.type === "delivery.exhausted");
    expect(exhausted.map((e) => e.data.delivery_id).sort()).toEqual(
      [first.delivery.id, second.delivery.id].sort(),
    );
    expect(exhausted[0]!.data).toMatchObject({
      merchant_id: merchant,
      endpoint_id: endpoint.id,
      attempts: 3,
      last_status: 500,
    });
    // Six failed attempts, fewer notices: at most one per endpoint per (scaled) hour.
    const notices = events.filter((e) => e.type === "endpoint.failing" && e.data.endpoint_id === endpoint.id);
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices.length).toBeLessThan(6);
    const times = notices.map((e) => Date.parse((e as unknown as { created_at: string }).created_at)).sort();
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(360);
    expect(notices[0]!.data).toMatchObject({ merchant_id: merchant, last_status: 500 });
  });

  it("an operator endpoint's own failures tell the operator nothing, and its deliveries are on record", async () => {
    const { herald } = scene;
    const broken = await startReceiver({ status: 500 });
    const listening = await startReceiver();
    const brokenEndpoint = await operatorEndpoint(broken);
    const { secret } = await operatorEndpoint(listening);
    const gone = await startReceiver({ status: 410 });
    const { merchant } = await merchantWithEndpoint(herald, { url: gone.url });
    await settledDelivery(herald, await emit(herald, merchant));
    // The broken operator endpoint is tried again and again (retried like any endpoint)...
    await eventually(async () => {
      const { rows } = await sql<{ failed: number }>`
        SELECT count(*) FILTER (WHERE a.response_status = 500)::int AS failed
        FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.endpoint_id = ${brokenEndpoint.id}`.execute(herald.database.db);
      return rows[0]!.failed >= 3 ? true : undefined;
    }, 20_000);
    // Its deliveries and their attempts are on record for the admin.
    const list = await herald.api("GET", `/v1/operator-endpoints/${brokenEndpoint.id}/deliveries`);
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThanOrEqual(1);
    const one = await herald.api(
      "GET",
      `/v1/operator-endpoints/${brokenEndpoint.id}/deliveries/${list.body.data[0].id}`,
    );
    expect(["endpoint.disabled", "delivery.exhausted", "endpoint.failing"]).toContain(one.body.event_type);
    expect(one.body.attempts[0].response_status).toBe(500);
    // ...and no operator event is about it.
    const { rows: about } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM events WHERE merchant_id = 'operator' AND body LIKE ${`%${brokenEndpoint.id}%`}
    `.execute(herald.database.db);
    expect(about[0]!.n).toBe(0);
    expect((await heard(listening, secret)).some((e) => e.data.endpoint_id === brokenEndpoint.id)).toBe(
      false,
    );
  });

  it("a recover operation that has re-sent every delivery sends recovery.finished, once", async () => {
    const { herald } = scene;
    const operator = await startReceiver();
    const { secret } = await operatorEndpoint(operator, { event_types: ["recovery.finished"] });
    let healthy = false;
    const flaky = await startReceiver(() => ({ status: healthy ? 200 : 500 }));
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: flaky.url,
      retry_policy: { custom: [60] },
    });
    const since = new Date(Date.now() - 60_000).toISOString();
    const failed = [
      await settledDelivery(herald, await emit(herald, merchant)),
      await settledDelivery(herald, await emit(herald, merchant)),
    ];
    expect(failed.every((f) => f.delivery.status === "failed")).toBe(true);
    healthy = true;
    const started = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/recover`, {
      since,
    });
    expect(started.status).toBe(202);
    const finished = await eventually(async () =>
      (await heard(operator, secret)).find((e) => e.type === "recovery.finished"),
    );
    expect(finished.data).toMatchObject({
      operation_id: started.body.id,
      merchant_id: merchant,
      endpoint_id: endpoint.id,
      total: 2,
      succeeded: 2,
      failed: 0,
    });
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM events WHERE merchant_id = 'operator' AND type = 'recovery.finished'
        AND body LIKE ${`%${started.body.id}%`}`.execute(herald.database.db);
    expect(rows[0]!.n).toBe(1);
  });

  it("operator endpoints are the admin's: listed, read, patched, rotated and deleted; merchants cannot reach them", async () => {
    const { herald } = scene;
    const receiver = await startReceiver();
    const created = await operatorEndpoint(receiver, { description: "pager" });
    const list = await herald.api("GET", "/v1/operator-endpoints");
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(created.id);
    const patched = await herald.api("PATCH", `/v1/operator-endpoints/${created.id}`, {
      event_types: ["delivery.exhausted"],
    });
    expect(patched.body.event_types).toEqual(["delivery.exhausted"]);
    const refused = await herald.api("PATCH", `/v1/operator-endpoints/${created.id}`, {
      event_types: ["payment.succeeded"],
    });
    expect(refused.status).toBe(400);
    const rotated = await herald.api("POST", `/v1/operator-endpoints/${created.id}/rotate-secret`, null);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    // The reserved owner is neither a merchant anyone lists nor one a merchant route reaches.
    const merchants = await herald.api("GET", "/v1/merchants?limit=100");
    expect(merchants.body.data.map((m: { id: string }) => m.id)).not.toContain("operator");
    expect((await herald.api("GET", "/v1/merchants/operator/endpoints")).status).toBe(404);
    const { merchant } = await merchantWithEndpoint(herald, { url: receiver.url });
    const key = await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" });
    const asMerchant = await herald.api("GET", "/v1/operator-endpoints", undefined, { key: key.body.key });
    expect(asMerchant.status).toBe(403);
    expect((await herald.api("DELETE", `/v1/operator-endpoints/${created.id}`)).status).toBe(204);
    expect((await herald.api("GET", `/v1/operator-endpoints/${created.id}`)).status).toBe(404);
  });
});
