import { beforeAll, describe, expect, it } from "vitest";
import {
  deliveryOf,
  emit,
  eventually,
  merchantWithEndpoint,
  queueDrainedFor,
  scheduledOffsets,
  settledDelivery,
  useHerald,
  useReceivers,
  warmUp,
} from "./support/fixture.ts";

const reason = "every attempt failed for 1.5 hours";

// HERALD_DISABLE_AFTER_HOURS=1.5. The window is judged on real time, so the first scenario runs at
// a scale (1 hour = 3.6 s, window 5.4 s) that leaves its first five attempts seconds of slack on a
// busy machine; the second, paced by deliveries, can run ten times faster (1 hour = 360 ms).
const heraldAt = (scale: number) =>
  useHerald({ env: { HERALD_RETRY_TIME_SCALE: String(scale), HERALD_DISABLE_AFTER_HOURS: "1.5" } });

describe("an endpoint that has done nothing but fail for HERALD_DISABLE_AFTER_HOURS is disabled", () => {
  const scene = heraldAt(0.001);
  const startReceiver = useReceivers();
  beforeAll(() => warmUp(scene.herald));

  it("disables it with a reason at the first failure past the window, and its delivery ends failed", async () => {
    const { herald } = scene;
    const receiver = await startReceiver({ status: 500 });
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      retry_policy: "live",
    });
    const eventId = await emit(herald, merchant);

    const found = await settledDelivery(herald, eventId);
    // Live schedule, scaled: 0, 180, 360, 540, 720 ms, 720 + 3600 ms, then 720 + 7200 ms, the first
    // failure more than 5.4 s after the first one.
    expect(scheduledOffsets(found)).toEqual([0, 180, 360, 540, 720, 4320, 7920]);
    expect(found.delivery).toMatchObject({
      status: "failed",
      next_attempt_at: null,
      last_error: `endpoint disabled: ${reason}`,
    });
    const shown = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`);
    expect(shown.body).toMatchObject({ enabled: false, disabled_reason: reason });

    await queueDrainedFor(herald, found.delivery.id);
    expect(receiver.received).toHaveLength(7);
    const later = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "x.y",
      mode: "test",
      data: {},
    });
    expect(later.body.deliveries).toBe(0);
  });
});

describe("a success restarts the HERALD_DISABLE_AFTER_HOURS window", () => {
  const scene = heraldAt(0.0001);
  const startReceiver = useReceivers();
  beforeAll(() => warmUp(scene.herald));

  it("any success restarts the window: kept enabled while successes keep coming, disabled once they stop", async () => {
    const { herald } = scene;
    let healthy = true;
    const receiver = await startReceiver((request) => ({
      status: healthy && JSON.parse(request.body).type === "ping.ok" ? 200 : 500,
    }));
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      retry_policy: "test",
    });
    const failing = await emit(herald, merchant, { type: "payment.failed" });

    // Hourly (360 ms) failures for over four windows' worth, with a success after each: the next
    // ping is emitted as soon as the last one arrived, paced by deliveries rather than a clock.
    while ((await deliveryOf(herald, failing)).attempts.length < 5) {
      const pings = receiver.received.filter((request) => request.body.includes('"ping.ok"')).length;
      await emit(herald, merchant, { type: "ping.ok" });
      await eventually(async () =>
        receiver.received.filter((request) => request.body.includes('"ping.ok"')).length > pings
          ? true
          : undefined,
      );
    }
    const enabled = await herald.database.db
      .selectFrom("endpoints")
      .select(["enabled", "disabled_reason"])
      .where("id", "=", endpoint.id)
      .executeTakeFirstOrThrow();
    expect(enabled).toEqual({ enabled: true, disabled_reason: null });
    expect((await deliveryOf(herald, failing)).attempts.length).toBeGreaterThanOrEqual(5);

    healthy = false;
    const disabled = await eventually(async () => {
      const row = await herald.database.db
        .selectFrom("endpoints")
        .select(["enabled", "disabled_reason"])
        .where("id", "=", endpoint.id)
        .executeTakeFirstOrThrow();
      return row.enabled ? undefined : row;
    }, 5000);
    expect(disabled.disabled_reason).toBe(reason);
    expect((await deliveryOf(herald, failing)).delivery.status).toBe("failed");
  });
});
