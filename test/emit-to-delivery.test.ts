import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";

describe("an emitted event reaches the receiver, signed, and the attempt is recorded", () => {
  const scene = useHerald();

  it("delivers the exact envelope bytes with a Standard Webhooks signature that verifies", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/hooks`,
      event_types: ["payment.*"],
    });
    const data = { amount: 2500, currency: "PKR", customer: { email: "é@example.com" }, items: [1, [2, 3]] };

    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data,
    });
    expect(emitted.status).toBe(202);
    expect(emitted.body).toMatchObject({ type: "payment.succeeded", deliveries: 1 });

    const [request] = await receiver.waitFor(1);
    const expectedBody = JSON.stringify({
      id: emitted.body.id,
      type: "payment.succeeded",
      created_at: emitted.body.created_at,
      data,
    });
    expect(request!.body).toBe(expectedBody);
    expect(request!.path).toBe("/hooks");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["webhook-id"]).toBe(emitted.body.id);
    expect(request!.headers["user-agent"]).toMatch(/^Herald\//);
    const verified = new Webhook(endpoint.secret).verify(
      request!.body,
      request!.headers as Record<string, string>,
    );
    expect(verified).toEqual(JSON.parse(expectedBody));

    const deliveries = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries?event_id=${emitted.body.id}`,
    );
    expect(deliveries.body.data).toHaveLength(1);
    const delivery = await eventually(async () => {
      const answer = await herald.api(
        "GET",
        `/v1/merchants/${merchant}/deliveries/${deliveries.body.data[0].id}`,
      );
      return answer.body.status === "succeeded" ? answer.body : undefined;
    });
    expect(delivery).toMatchObject({
      endpoint_id: endpoint.id,
      attempt_count: 1,
      next_attempt_at: null,
      last_status: 200,
    });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({
      number: 1,
      trigger: "scheduled",
      response_status: 200,
      response_body: "ok",
      error: null,
      request: { url: `${receiver.url}/hooks`, body: expectedBody },
    });
    expect(delivery.attempts[0].request.headers["webhook-signature"]).toBe(
      request!.headers["webhook-signature"],
    );
  });

  it("fans out only to enabled endpoints of the event's mode whose filters match", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const matching = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/a`,
      event_types: ["payment.*"],
    });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/b`, event_types: ["refund.completed"] });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/c`, enabled: false });
    const all = await createEndpoint(herald, merchant, { url: `${receiver.url}/d` });

    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.failed",
      mode: "test",
      data: {},
    });
    expect(emitted.body.deliveries).toBe(2);
    const deliveries = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries?event_id=${emitted.body.id}`,
    );
    expect(deliveries.body.data.map((d: { endpoint_id: string }) => d.endpoint_id).sort()).toEqual(
      [matching.id, all.id].sort(),
    );

    const live = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.failed",
      mode: "live",
      data: {},
    });
    expect(live.body.deliveries).toBe(0);
  });
});
