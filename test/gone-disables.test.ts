import { describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  deliveryOf,
  emit,
  merchantWithEndpoint,
  queueDrainedFor,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

// 1 hour becomes 3.6 s: the test policy's second attempt is far enough away to watch it not happen.
const scale = 0.001;

describe("410 Gone disables the endpoint, as Standard Webhooks recommends", () => {
  const gone = new Set<string>();
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: String(scale) },
    receiver: (request) =>
      gone.has(JSON.parse(request.body).id) ? { status: 410, body: "unsubscribed" } : { status: 500 },
  });

  it("ends the delivery, disables the endpoint with a reason, fails its pending deliveries, takes no new ones", async () => {
    const { herald, receiver } = scene;
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      retry_policy: "test",
    });

    // A delivery waiting for its retry (due 3.6 s after its first attempt failed)…
    const waiting = await emit(herald, merchant, { type: "payment.failed" });
    await attemptsRecorded(herald, waiting, 1);
    expect((await deliveryOf(herald, waiting)).delivery.status).toBe("pending");

    // …then another event, which the endpoint answers with 410.
    const answeredGone = await emit(herald, merchant, { type: "payment.succeeded" });
    gone.add(answeredGone);
    const found = await settledDelivery(herald, answeredGone);
    expect(found.delivery.status).toBe("failed");
    expect(found.delivery.next_attempt_at).toBeNull();
    expect(found.attempts.map((a) => [a.response_status, a.error, a.response_body])).toEqual([
      [410, "http_status", "unsubscribed"],
    ]);

    const shown = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`);
    expect(shown.body).toMatchObject({ enabled: false, disabled_reason: "the endpoint answered 410 Gone" });

    const other = await deliveryOf(herald, waiting);
    expect(other.delivery).toMatchObject({
      status: "failed",
      next_attempt_at: null,
      last_error: "endpoint disabled: the endpoint answered 410 Gone",
      attempt_count: 1,
    });

    const later = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data: {},
    });
    expect(later.body.deliveries).toBe(0);
    // The waiting delivery's retry comes due and is dropped: once its job is done, nothing more was sent.
    await queueDrainedFor(herald, other.delivery.id);
    expect(receiver.received).toHaveLength(2);
    expect((await deliveryOf(herald, waiting)).attempts).toHaveLength(1);
  }, 20_000);
});
