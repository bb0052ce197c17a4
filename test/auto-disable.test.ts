import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryOf, emit, scheduledOffsets, settledDelivery, warmUp } from "./support/deliveries.ts";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "./support/herald.ts";
import { Receiver } from "./support/receiver.ts";

// 1 hour becomes 360 ms: HERALD_DISABLE_AFTER_HOURS=1.5 disables an endpoint after 540 ms of failures.
const scale = 0.0001;
const reason = "every attempt failed for 1.5 hours";

describe("an endpoint that has done nothing but fail for HERALD_DISABLE_AFTER_HOURS is disabled", () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await startTestHerald({
      HERALD_RETRY_TIME_SCALE: String(scale),
      HERALD_DISABLE_AFTER_HOURS: "1.5",
    });
    await warmUp(herald);
  });
  afterAll(() => herald.stop());

  it("disables it with a reason at the first failure past the window, and its delivery ends failed", async () => {
    const receiver = await Receiver.start(() => ({ status: 500 }));
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: "live" });
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

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received).toHaveLength(7);
    const later = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "x.y",
      mode: "test",
      data: {},
    });
    expect(later.body.deliveries).toBe(0);
    await receiver.close();
  });

  it("any success restarts the window: kept enabled while successes keep coming, disabled once they stop", async () => {
    let healthy = true;
    const receiver = await Receiver.start((request) => ({
      status: healthy && JSON.parse(request.body).type === "ping.ok" ? 200 : 500,
    }));
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: "test" });
    const failing = await emit(herald, merchant, { type: "payment.failed" });

    // 2 s of hourly (360 ms) failures, almost four windows' worth, with a success every 150 ms.
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      await emit(herald, merchant, { type: "ping.ok" });
      await new Promise((resolve) => setTimeout(resolve, 150));
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
    await receiver.close();
  });
});
