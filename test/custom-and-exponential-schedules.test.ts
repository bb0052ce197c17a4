import { scheduleOffsets } from "@herald/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  deliveryOf,
  emit,
  eventually,
  scheduledOffsets,
  settledDelivery,
  useHerald,
  warmUp,
} from "./support/fixture.ts";

// 1 hour becomes 360 ms, 1 minute 6 ms: a whole 24-hour exponential schedule runs in 8.6 s.
const scale = 0.0001;
const scaled = (ms: number) => Math.round(ms * scale);

describe("custom and exponential schedules run end to end at their recorded offsets", () => {
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: String(scale) },
    receiver: { status: 500, body: "down" },
  });
  beforeAll(() => warmUp(scene.herald));

  it("custom delays: every attempt at the sum of the delays so far, then failed", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, {
      url: receiver.url,
      retry_policy: { custom: [600, 1200, 3600, 1800] },
    });
    const eventId = await emit(herald, merchant);

    const found = await settledDelivery(herald, eventId);
    expect(found.delivery.status).toBe("failed");
    expect(found.delivery.attempt_count).toBe(5);
    expect(found.delivery.next_attempt_at).toBeNull();
    // 0, 10 min, 30 min, 90 min, 120 min — scaled.
    expect(scheduledOffsets(found)).toEqual([0, 60, 180, 540, 720]);
    expect(found.attempts.map((a) => a.number)).toEqual([1, 2, 3, 4, 5]);
    // Never early, and a late start does not shift the next slot: the offsets above are exact.
    for (const attempt of found.attempts) expect(attempt.started_at >= attempt.scheduled_at).toBe(true);
  });

  it("a pending delivery shows when its next attempt is due", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    // The second attempt is 10 hours (3.6 s scaled) after the first.
    await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: { custom: [36_000] } });
    const eventId = await emit(herald, merchant);

    const afterFirst = await eventually(async () => {
      const found = await deliveryOf(herald, eventId);
      return found.attempts.length === 1 && found.delivery.attempt_count === 1 ? found : undefined;
    });
    expect(afterFirst.delivery.status).toBe("pending");
    expect(afterFirst.delivery.next_attempt_at!.getTime() - afterFirst.delivery.created_at.getTime()).toBe(
      3600,
    );
    const shown = await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${afterFirst.delivery.id}`);
    expect(shown.body.next_attempt_at).toBe(afterFirst.delivery.next_attempt_at!.toISOString());
  });

  it("exponential: 12 attempts, doubling delays with ±10 % jitter, the last at exactly 24 h", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: "exponential" });
    const eventId = await emit(herald, merchant);

    const found = await settledDelivery(herald, eventId, 30_000);
    expect(found.delivery.status).toBe("failed");
    expect(found.attempts).toHaveLength(12);
    const offsets = scheduledOffsets(found);
    // The delivery's own jittered schedule (seeded by its id), scaled.
    expect(offsets).toEqual(scheduleOffsets("exponential", found.delivery.id).map(scaled));
    expect(offsets.at(-1)).toBe(scaled(24 * 3_600_000));
    // Delays 1, 2, 4 … 512 minutes nominal; from 8 minutes on (48 ms scaled) the jitter is wider
    // than the 1 ms that rounding adds, so the ±10 % bound is checked on the recorded times.
    const jittered: number[] = [];
    for (let k = 3; k < 10; k++) {
      const delay = offsets[k + 1]! - offsets[k]!;
      const nominal = scaled(60_000 * 2 ** k);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.9) - 1);
      expect(delay).toBeLessThanOrEqual(Math.ceil(nominal * 1.1) + 1);
      jittered.push(delay - nominal);
    }
    expect(jittered.some((d) => d !== 0)).toBe(true);
    // Never early, and a late start does not shift the next slot: the offsets above are exact.
    for (const attempt of found.attempts) expect(attempt.started_at >= attempt.scheduled_at).toBe(true);
  }, 40_000);
});

describe("GET /v1/retry-policies publishes every named schedule", () => {
  const scene = useHerald({ dispatcher: false });

  it("lists live, test and exponential with their offsets in seconds, matching the schedules used", async () => {
    const { herald } = scene;
    const answer = await herald.api("GET", "/v1/retry-policies", undefined, { key: null });
    expect(answer.status).toBe(200);
    const byName = Object.fromEntries(answer.body.data.map((p: { name: string }) => [p.name, p])) as Record<
      string,
      { attempts: number; offsets_seconds: number[]; window_seconds: number }
    >;
    expect(Object.keys(byName).sort()).toEqual(["exponential", "live", "test"]);

    expect(byName.live!.attempts).toBe(77);
    expect(byName.live!.offsets_seconds.slice(0, 7)).toEqual([0, 180, 360, 540, 720, 4320, 7920]);
    expect(byName.live!.window_seconds).toBe(72 * 3600 + 720);
    expect(byName.test!.attempts).toBe(73);
    expect(byName.test!.offsets_seconds.slice(0, 3)).toEqual([0, 3600, 7200]);
    expect(byName.test!.window_seconds).toBe(72 * 3600);
    expect(byName.exponential!.offsets_seconds).toEqual([
      0, 60, 180, 420, 900, 1860, 3780, 7620, 15300, 30660, 61380, 86400,
    ]);
    expect(byName.exponential!.attempts).toBe(12);

    for (const name of ["live", "test"] as const) {
      expect(byName[name]!.offsets_seconds).toEqual(scheduleOffsets(name).map((ms) => ms / 1000));
    }
    expect(byName.exponential!.offsets_seconds).toHaveLength(scheduleOffsets("exponential").length);
  });
});
