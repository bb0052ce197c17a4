import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, queueDrainedFor, useHerald } from "./support/fixture.ts";

// A custom policy of two 1-second delays runs in 20 ms at this scale.
const scale = 0.01;

describe("retrying a delivery makes one manual attempt now", () => {
  let broken = true;
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: String(scale) },
    receiver: () => (broken ? { status: 500, body: "down" } : { status: 200 }),
  });

  async function failedDelivery() {
    const { herald, receiver } = scene;
    broken = true;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: receiver.url,
      retry_policy: { custom: [1, 1] },
    });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data: { amount: 100 },
    });
    const list = await herald.api("GET", `/v1/merchants/${merchant}/deliveries?event_id=${emitted.body.id}`);
    const path = `/v1/merchants/${merchant}/deliveries/${list.body.data[0].id}`;
    const delivery = await eventually(async () => {
      const d = (await herald.api("GET", path)).body;
      return d.status === "failed" ? d : undefined;
    });
    expect(delivery.attempt_count).toBe(3);
    return { merchant, endpoint, path, delivery };
  }

  it("a failed delivery whose receiver was fixed succeeds on retry, with a manual attempt", async () => {
    const { herald, receiver } = scene;
    const { path } = await failedDelivery();
    broken = false;
    const before = receiver.received.length;

    const retried = await herald.api("POST", `${path}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ status: "failed", attempt_count: 3 });

    const delivery = await eventually(async () => {
      const d = (await herald.api("GET", path)).body;
      return d.status === "succeeded" ? d : undefined;
    });
    expect(receiver.received.length - before).toBe(1);
    expect(delivery).toMatchObject({ attempt_count: 4, last_status: 200, next_attempt_at: null });
    expect(delivery.attempts.map((a: { trigger: string }) => a.trigger)).toEqual([
      "scheduled",
      "scheduled",
      "scheduled",
      "manual",
    ]);
    expect(delivery.attempts[3]).toMatchObject({ number: 4, response_status: 200, error: null });
  });

  it("a retry that fails again leaves the delivery failed, off schedule", async () => {
    const { herald } = scene;
    const { path, delivery: failed } = await failedDelivery();
    expect((await herald.api("POST", `${path}/retry`)).status).toBe(202);
    const delivery = await eventually(async () => {
      const d = (await herald.api("GET", path)).body;
      return d.attempt_count === 4 ? d : undefined;
    });
    expect(delivery).toMatchObject({ status: "failed", next_attempt_at: null, last_status: 500 });
    expect(delivery.attempts[3]).toMatchObject({ number: 4, trigger: "manual", response_status: 500 });
    // No schedule resumed: once the dispatcher is done with its jobs, nothing more was sent.
    await queueDrainedFor(herald, failed.id);
    expect((await herald.api("GET", path)).body.attempt_count).toBe(4);
  });

  it("refuses a retry when the endpoint is disabled, and answers 404 to another merchant", async () => {
    const { herald } = scene;
    const { merchant, endpoint, path } = await failedDelivery();
    await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, { enabled: false });
    const refused = await herald.api("POST", `${path}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);

    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    const foreign = await herald.api("POST", `${path}/retry`, undefined, { key: otherKey });
    expect(foreign.status).toBe(404);
    const liveKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "live" })).body
      .key;
    expect((await herald.api("POST", `${path}/retry`, undefined, { key: liveKey })).status).toBe(404);
    expect((await herald.api("POST", `/v1/merchants/${merchant}/deliveries/dlv_nope/retry`)).status).toBe(
      404,
    );
  });
});
