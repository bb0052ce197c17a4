import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";

const scale = 0.01;

describe("recovering an endpoint re-sends exactly its failed deliveries of the window", () => {
  let fixed = false;
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: String(scale) },
    // Until it is fixed, the receiver fails everything but `fine` events; `poison` ones fail for ever.
    receiver: (request) => {
      const { data } = JSON.parse(request.body);
      if (data.poison) return { status: 500 };
      return fixed || data.fine ? { status: 200 } : { status: 503 };
    },
  });

  async function settled(merchant: string, eventId: string, endpointId: string) {
    const { herald } = scene;
    const list = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries?event_id=${eventId}&endpoint_id=${endpointId}`,
    );
    return eventually(async () => {
      const d = (await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${list.body.data[0].id}`))
        .body;
      return d.status === "pending" ? undefined : d;
    });
  }

  it("re-sends the failed deliveries created in [since, until) and reports progress", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const policy = { retry_policy: { custom: [1] } };
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/main`, ...policy });
    const emit = async (data: Record<string, unknown>, mode = "test") =>
      (await herald.api("POST", `/v1/merchants/${merchant}/events`, { type: "order.paid", mode, data })).body
        .id;

    const before = await emit({ n: 0 });
    expect((await settled(merchant, before, endpoint.id)).status).toBe("failed");
    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const other = await createEndpoint(herald, merchant, { url: `${receiver.url}/other`, ...policy });
    const inWindow = [await emit({ n: 1 }), await emit({ n: 2 }), await emit({ n: 3, poison: true })];
    const fine = await emit({ n: 4, fine: true });
    for (const id of inWindow) expect((await settled(merchant, id, endpoint.id)).status).toBe("failed");
    expect((await settled(merchant, fine, endpoint.id)).status).toBe("succeeded");
    // `other` got the window's events too: its failed deliveries are not this endpoint's to recover.
    expect(receiver.received.filter((r) => r.path === "/other")).toHaveLength(inWindow.length * 2 + 1);

    fixed = true;
    const sentBefore = receiver.received.length;
    const started = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/recover`, {
      since: since.toISOString(),
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      kind: "endpoint.recover",
      endpoint_id: endpoint.id,
      mode: "test",
      since: since.toISOString(),
      total: 3,
    });
    expect(started.headers.get("location")).toBe(`/v1/merchants/${merchant}/operations/${started.body.id}`);

    const finished = await eventually(async () => {
      const op = (await herald.api("GET", started.headers.get("location")!)).body;
      return op.status === "completed" ? op : undefined;
    });
    expect(finished).toMatchObject({ total: 3, done: 3, succeeded: 2, failed: 1 });

    const resent = receiver.received.slice(sentBefore);
    expect(resent.every((r) => r.path === "/main")).toBe(true);
    expect(resent.map((r) => r.headers["webhook-id"]).sort()).toEqual([...inWindow].sort());
    expect((await settled(merchant, inWindow[0]!, endpoint.id)).status).toBe("succeeded");
    expect((await settled(merchant, inWindow[2]!, endpoint.id)).status).toBe("failed");
    const outside = await settled(merchant, before, endpoint.id);
    expect(outside).toMatchObject({ status: "failed", attempt_count: 2 });
    const recovered = await settled(merchant, inWindow[1]!, endpoint.id);
    expect(recovered.attempts.map((a: { trigger: string }) => a.trigger)).toEqual([
      "scheduled",
      "scheduled",
      "manual",
    ]);
    const others = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries?endpoint_id=${other.id}&status=failed`,
    );
    expect(others.body.data).toHaveLength(3);
  });

  it("refuses a reversed window and a disabled endpoint; another merchant's operation is 404", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: receiver.url });
    const path = `/v1/merchants/${merchant}/endpoints/${endpoint.id}/recover`;
    const now = Date.now();
    const reversed = await herald.api("POST", path, {
      since: new Date(now).toISOString(),
      until: new Date(now - 1000).toISOString(),
    });
    expect(reversed.status).toBe(400);
    expect(reversed.body.field).toBe("since");
    expect((await herald.api("POST", path, {})).status).toBe(400);

    const empty = await herald.api("POST", path, { since: new Date(now - 3_600_000).toISOString() });
    expect(empty.status).toBe(202);
    expect(empty.body).toMatchObject({ status: "completed", total: 0, done: 0 });

    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    expect(
      (await herald.api("GET", empty.headers.get("location")!, undefined, { key: otherKey })).status,
    ).toBe(404);
    expect((await herald.api("GET", `/v1/merchants/${other}/operations/${empty.body.id}`)).status).toBe(404);

    await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, { enabled: false });
    const disabled = await herald.api("POST", path, { since: new Date(now - 3_600_000).toISOString() });
    expect(disabled.status).toBe(409);
  });
});

describe("an operation's progress is read from its deliveries as they are now", () => {
  const scene = useHerald({ dispatcher: false });

  it("running while attempts are queued, failed once attempted, stopped when the endpoint is disabled", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/" });
    const since = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++) {
      await herald.api("POST", `/v1/merchants/${merchant}/events`, { type: "a.b", mode: "test", data: {} });
    }
    // No dispatcher here: the deliveries are made failed by hand, as an exhausted schedule would.
    const { db } = herald.database;
    await db
      .updateTable("deliveries")
      .set({ status: "failed", attempt_count: 2 })
      .where("merchant_id", "=", merchant)
      .execute();

    const started = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/recover`, {
      since,
    });
    expect(started.body).toMatchObject({ status: "running", total: 3, done: 0, succeeded: 0, failed: 0 });
    const location = started.headers.get("location")!;

    const [first, second] = await db
      .selectFrom("deliveries")
      .select("id")
      .where("merchant_id", "=", merchant)
      .orderBy("id")
      .execute();
    await db.updateTable("deliveries").set({ attempt_count: 3 }).where("id", "=", first!.id).execute();
    await db
      .updateTable("deliveries")
      .set({ attempt_count: 3, status: "succeeded" })
      .where("id", "=", second!.id)
      .execute();
    expect((await herald.api("GET", location)).body).toMatchObject({
      status: "running",
      done: 2,
      succeeded: 1,
      failed: 1,
    });

    await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, { enabled: false });
    expect((await herald.api("GET", location)).body).toMatchObject({ status: "stopped", total: 3, done: 2 });
  });
});

describe("resending an event", () => {
  const scene = useHerald();

  it("sends it again to every enabled matching endpoint: a manual attempt, or a new delivery for a new endpoint", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const first = await createEndpoint(herald, merchant, { url: `${receiver.url}/first` });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "invoice.paid",
      mode: "test",
      data: { invoice: "inv_1" },
    });
    await receiver.waitFor(1);
    const later = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/later`,
      event_types: ["invoice.*"],
    });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/elsewhere`, event_types: ["refund.*"] });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/off`, enabled: false });
    const original = (
      await herald.api("GET", `/v1/merchants/${merchant}/deliveries?event_id=${emitted.body.id}`)
    ).body.data[0];

    const resent = await herald.api("POST", `/v1/merchants/${merchant}/events/${emitted.body.id}/resend`);
    expect(resent.status).toBe(202);
    expect(resent.body.event_id).toBe(emitted.body.id);
    const byEndpoint = Object.fromEntries(
      resent.body.deliveries.map((d: { endpoint_id: string }) => [d.endpoint_id, d]),
    );
    expect(Object.keys(byEndpoint).sort()).toEqual([first.id, later.id].sort());
    expect(byEndpoint[first.id]).toEqual({ delivery_id: original.id, endpoint_id: first.id, created: false });
    expect(byEndpoint[later.id]).toMatchObject({ endpoint_id: later.id, created: true });

    const received = await receiver.waitFor(3);
    expect(received.map((r) => r.path).sort()).toEqual(["/first", "/first", "/later"]);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([emitted.body.id]));
    const again = await eventually(async () => {
      const d = (await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${original.id}`)).body;
      return d.attempt_count === 2 ? d : undefined;
    });
    expect(again.attempts.map((a: { trigger: string }) => a.trigger)).toEqual(["scheduled", "manual"]);
    const created = await eventually(async () => {
      const d = (
        await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${byEndpoint[later.id].delivery_id}`)
      ).body;
      return d.status === "succeeded" ? d : undefined;
    });
    expect(created.attempts.map((a: { trigger: string }) => a.trigger)).toEqual(["scheduled"]);
  });

  it("to one endpoint when asked; refuses endpoints of another mode, disabled ones and malformed ids", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const one = await createEndpoint(herald, merchant, { url: `${receiver.url}/one` });
    const two = await createEndpoint(herald, merchant, { url: `${receiver.url}/two` });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "a.b",
      mode: "test",
      data: {},
    });
    const path = `/v1/merchants/${merchant}/events/${emitted.body.id}/resend`;
    const before = receiver.received.length;

    const only = await herald.api("POST", path, { endpoint_id: two.id });
    expect(only.status).toBe(202);
    expect(only.body.deliveries).toEqual([expect.objectContaining({ endpoint_id: two.id, created: false })]);
    await eventually(async () => (receiver.received.length - before === 3 ? true : undefined));
    expect(receiver.received.slice(before).filter((r) => r.path === "/two")).toHaveLength(2);
    expect(receiver.received.slice(before).filter((r) => r.path === "/one")).toHaveLength(1);

    const live = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: "https://example.com/hooks",
      mode: "live",
    });
    expect((await herald.api("POST", path, { endpoint_id: live.body.id })).status).toBe(404);
    expect((await herald.api("POST", path, { endpoint_id: "ep_nope" })).status).toBe(400);
    await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${one.id}`, { enabled: false });
    expect((await herald.api("POST", path, { endpoint_id: one.id })).status).toBe(409);

    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    expect((await herald.api("POST", path, undefined, { key: otherKey })).status).toBe(404);
  });
});
