import { scheduleOffsets } from "@herald/core";
import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald, useReceivers } from "./support/fixture.ts";

// 1 hour becomes 360 ms, 3 minutes 18 ms: whole schedules run in seconds against the real queue.
const scale = 0.0001;

describe("failed attempts are retried at the scaled schedule offsets", () => {
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: String(scale) } });
  const startReceiver = useReceivers();

  async function deliveryOf(merchant: string, eventId: string) {
    const { herald } = scene;
    const list = await herald.api("GET", `/v1/merchants/${merchant}/deliveries?event_id=${eventId}`);
    return (await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${list.body.data[0].id}`)).body;
  }

  for (const [policy, failures] of [
    ["test", 2],
    ["live", 5],
  ] as const) {
    it(`${policy} policy: ${failures} × 500 then 200 → ${failures + 1} attempts on schedule, succeeded`, async () => {
      const { herald } = scene;
      const receiver = await startReceiver((_request, index) =>
        index < failures ? { status: 500, body: "boom" } : { status: 200 },
      );
      const merchant = await createMerchant(herald);
      await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: policy });
      const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
        type: "payment.succeeded",
        mode: "test",
        data: {},
      });

      await receiver.waitFor(failures + 1, 15_000);
      const delivery = await eventually(async () => {
        const d = await deliveryOf(merchant, emitted.body.id);
        return d.status === "succeeded" ? d : undefined;
      });
      const anchor = Date.parse(delivery.created_at);
      const expected = scheduleOffsets(policy)
        .slice(0, failures + 1)
        .map((ms) => Math.round(ms * scale));
      expect(
        delivery.attempts.map((a: { scheduled_at: string }) => Date.parse(a.scheduled_at) - anchor),
      ).toEqual(expected);
      expect(delivery.attempts.map((a: { number: number }) => a.number)).toEqual(
        expected.map((_, i) => i + 1),
      );
      expect(delivery.attempts.map((a: { response_status: number }) => a.response_status)).toEqual([
        ...Array(failures).fill(500),
        200,
      ]);
      expect(delivery.attempts[0].response_body).toBe("boom");
      // Never early. How late is this machine's load, not the schedule's: SPEC §6's "a due retry
      // starts within 1 s" is measured by `npm run bench` (retry-punctuality), not asserted here.
      for (const attempt of delivery.attempts) {
        expect(Date.parse(attempt.started_at)).toBeGreaterThanOrEqual(Date.parse(attempt.scheduled_at));
      }
      // Every retry carries the same webhook-id, so receivers can dedupe.
      expect(new Set(receiver.received.map((r) => r.headers["webhook-id"]))).toEqual(
        new Set([emitted.body.id]),
      );
    });
  }

  it("a delivery whose whole test schedule fails ends failed after 73 attempts", async () => {
    const { herald } = scene;
    const receiver = await startReceiver({ status: 503 });
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: "test" });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data: {},
    });
    const delivery = await eventually(async () => {
      const d = await deliveryOf(merchant, emitted.body.id);
      return d.status === "failed" ? d : undefined;
    }, 60_000);
    expect(delivery.attempt_count).toBe(73);
    expect(delivery.next_attempt_at).toBeNull();
    const anchor = Date.parse(delivery.created_at);
    expect(Date.parse(delivery.attempts.at(-1).scheduled_at) - anchor).toBe(
      Math.round(72 * 3_600_000 * scale),
    );
    expect(receiver.received).toHaveLength(73);
  }, 90_000);
});
