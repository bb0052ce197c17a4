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

// 1 hour becomes 360 ms: HERALD_DISABLE_AFTER_HOURS=1.5 disables an endpoint after 540 ms of failures.
const scale = 0.0001;
const reason = "every attempt failed for 1.5 hours";

describe("an endpoint that has done nothing but fail for HERALD_DISABLE_AFTER_HOURS is disabled", () => {
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: String(scale), HERALD_DISABLE_AFTER_HOURS: "1.5" },
  });
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
    // Live schedule, scaled: 0, 18, 36, 54, 72 ms, 72 + 360 ms, then 72 + 720 ms, the first failure
    // more than 540 ms after the first one.
    expect(scheduledOffsets(found)).toEqual([0, 18, 36, 54, 72, 432, 792]);
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
