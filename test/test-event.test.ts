import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, queueDrainedFor, useHerald } from "./support/fixture.ts";

describe("a test event is sent to one endpoint at once and its attempt answered inline", () => {
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: "0.01" },
    receiver: (request) =>
      request.path === "/broken" ? { status: 500, body: "nope" } : { status: 200, body: "thanks" },
  });

  it("sends a signed herald.test event to that endpoint only and returns the attempt", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/hooks` });
    const bystander = await createEndpoint(herald, merchant, { url: `${receiver.url}/bystander` });
    expect(bystander.id).not.toBe(endpoint.id);

    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`);
    expect(answer.status).toBe(200);
    const { attempt } = answer.body;
    expect(attempt).toMatchObject({
      number: 1,
      trigger: "test",
      response_status: 200,
      response_body: "thanks",
      error: null,
    });

    expect(receiver.received.filter((r) => r.path === "/bystander")).toHaveLength(0);
    const got = receiver.received.find((r) => r.headers["webhook-id"] === answer.body.event_id)!;
    expect(got.path).toBe("/hooks");
    expect(attempt.request.body).toBe(got.body);
    expect(attempt.request.headers["webhook-signature"]).toBe(got.headers["webhook-signature"]);
    const envelope = new Webhook(endpoint.secret).verify(got.body, got.headers as Record<string, string>);
    expect(envelope).toEqual({
      id: answer.body.event_id,
      type: "herald.test",
      created_at: expect.any(String),
      data: { message: "This is a test event sent from Herald.", endpoint_id: endpoint.id },
    });

    const event = await herald.api("GET", `/v1/merchants/${merchant}/events/${answer.body.event_id}`);
    // Not the admin's default mode (live): the endpoint's.
    expect(event.body).toMatchObject({ mode: "test", type: "herald.test" });
    const delivery = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries/${answer.body.delivery_id}`,
    );
    expect(delivery.body).toMatchObject({ status: "succeeded", attempt_count: 1, endpoint_id: endpoint.id });
  });

  it("sends the given type and data; a failure ends the delivery failed, never retried", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/broken`,
      retry_policy: { custom: [1] },
    });
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`, {
      type: "payment.succeeded",
      data: { amount: 2500, currency: "PKR" },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.attempt).toMatchObject({
      trigger: "test",
      response_status: 500,
      response_body: "nope",
      error: "http_status",
    });
    expect(JSON.parse(answer.body.attempt.request.body)).toMatchObject({
      type: "payment.succeeded",
      data: { amount: 2500, currency: "PKR" },
    });
    // Its policy would retry after 10 ms: a test delivery is not retried, so once the dispatcher is
    // done with its jobs the one attempt is all there is.
    await queueDrainedFor(herald, answer.body.delivery_id);
    const delivery = await herald.api(
      "GET",
      `/v1/merchants/${merchant}/deliveries/${answer.body.delivery_id}`,
    );
    expect(delivery.body).toMatchObject({ status: "failed", attempt_count: 1, next_attempt_at: null });
    expect(delivery.body.attempts.map((a: { trigger: string }) => a.trigger)).toEqual(["test"]);
  });

  it("reaches a disabled endpoint, so it can be checked before enabling it", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/hooks`, enabled: false });
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`, {});
    expect(answer.status).toBe(200);
    expect(answer.body.attempt.response_status).toBe(200);
  });

  it("refuses a malformed type, and another merchant's endpoint is 404", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/hooks` });
    const bad = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`, {
      type: "a..b",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("type");
    const unknown = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`, {
      kind: "x",
    });
    expect(unknown.status).toBe(400);

    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    const path = `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`;
    expect((await herald.api("POST", path, undefined, { key: otherKey })).status).toBe(404);
    const liveKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "live" })).body
      .key;
    expect((await herald.api("POST", path, undefined, { key: liveKey })).status).toBe(404);
  });
});

describe("without a dispatcher to make the attempt", () => {
  const scene = useHerald({ dispatcher: false });

  it("answers 202 with no attempt after the endpoint's timeout plus the pickup allowance", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/", timeout_ms: 1000 });
    const started = Date.now();
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`);
    const waited = Date.now() - started;
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ attempt: null, delivery_id: expect.stringMatching(/^dlv_/) });
    // It waited for the attempt as long as promised (a lower bound, which load cannot break); how
    // much longer a busy machine takes to answer is bounded by the test's timeout, not asserted.
    expect(waited).toBeGreaterThanOrEqual(6000);
  }, 15_000);
});
