import { describe, expect, it } from "vitest";
import {
  emit,
  merchantWithEndpoint,
  type Responder,
  scheduledOffsets,
  settledDelivery,
  useHerald,
  useReceivers,
} from "./support/fixture.ts";

// Schedules are scaled (1 h = 360 ms); a receiver's Retry-After is not: it asks for real seconds.
const scale = 0.0001;

describe("Retry-After on 429 and 503 moves the next attempt later, never past the schedule's window", () => {
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: String(scale) } });
  const startReceiver = useReceivers();

  async function deliver(respond: Responder, retryPolicy: unknown) {
    const { herald } = scene;
    const receiver = await startReceiver(respond);
    const { merchant } = await merchantWithEndpoint(herald, { url: receiver.url, retry_policy: retryPolicy });
    const found = await settledDelivery(herald, await emit(herald, merchant));
    return { found, receiver };
  }

  it("429 with Retry-After: 1 skips the 360 ms and 720 ms slots and retries 1 s after the answer", async () => {
    const { found } = await deliver(
      (_r, i) => (i === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }),
      "test",
    );
    expect(found.delivery.status).toBe("succeeded");
    const [first, second] = found.attempts;
    expect(found.attempts).toHaveLength(2);
    expect(first!.response_status).toBe(429);
    expect(first!.response_headers).toMatchObject({ "retry-after": "1" });
    // Due one second after the 429 was read: recorded times, the attempt's start plus its duration
    // (the answer is judged the moment it is read, so load does not widen the gap).
    const answeredAt = first!.started_at.getTime() + first!.duration_ms;
    const delay = second!.scheduled_at.getTime() - answeredAt;
    expect(delay).toBeGreaterThanOrEqual(995);
    expect(delay).toBeLessThanOrEqual(1030);
    expect(scheduledOffsets(found)[1]).toBeGreaterThan(720);
    expect(second!.started_at.getTime()).toBeGreaterThanOrEqual(second!.scheduled_at.getTime());
  });

  it("503 with an HTTP-date Retry-After retries at exactly that date", async () => {
    const { found } = await deliver(
      (_r, i) =>
        i === 0
          ? { status: 503, headers: { "retry-after": new Date(Date.now() + 2000).toUTCString() } }
          : { status: 204 },
      "test",
    );
    expect(found.delivery.status).toBe("succeeded");
    const [first, second] = found.attempts;
    const asked = Date.parse(first!.response_headers!["retry-after"]!);
    expect(second!.scheduled_at.getTime()).toBe(asked);
    expect(asked - first!.started_at.getTime()).toBeGreaterThan(720);
  });

  it("a Retry-After beyond the window lands on the schedule's last slot, which then ends the delivery", async () => {
    // Custom delays of 10,000 s: slots at 0, 1 s and 2 s once scaled.
    const { found, receiver } = await deliver(() => ({ status: 503, headers: { "retry-after": "3600" } }), {
      custom: [10_000, 10_000],
    });
    expect(found.delivery.status).toBe("failed");
    expect(scheduledOffsets(found)).toEqual([0, 2000]);
    expect(found.attempts.map((a) => a.response_status)).toEqual([503, 503]);
    expect(found.delivery.next_attempt_at).toBeNull();
    expect(receiver.received).toHaveLength(2);
  });

  it("Retry-After on a 500 is not honoured: the schedule's next slot stands", async () => {
    const { found } = await deliver(
      (_r, i) => (i === 0 ? { status: 500, headers: { "retry-after": "5" } } : { status: 200 }),
      "test",
    );
    expect(scheduledOffsets(found)).toEqual([0, 360]);
  });
});
