import { describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  createEndpoint,
  createMerchant,
  deliveryOf,
  emit,
  settledDelivery,
  useHerald,
  useReceivers,
} from "./support/fixture.ts";

describe("a 3xx is a failure, never followed, with its Location recorded", () => {
  // 1 hour becomes 3.6 s, so the retry is far off while the first attempt is inspected.
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: "0.001" } });
  const startReceiver = useReceivers();

  it.each([301, 302, 307, 308])(
    "%i: error redirect, Location kept, target never contacted",
    async (status) => {
      const { herald } = scene;
      const target = await startReceiver();
      const redirecting = await startReceiver(() => ({
        status,
        headers: { location: `${target.url}/moved` },
      }));
      const merchant = await createMerchant(herald);
      await createEndpoint(herald, merchant, { url: `${redirecting.url}/hook`, retry_policy: "test" });
      const eventId = await emit(herald, merchant);

      const found = await attemptsRecorded(herald, eventId, 1);
      const [attempt] = found.attempts;
      expect(attempt).toMatchObject({ response_status: status, error: "redirect" });
      expect(attempt!.response_headers!.location).toBe(`${target.url}/moved`);
      expect(attempt!.error_detail).toBe(`redirect to ${target.url}/moved not followed`);
      const { delivery } = await deliveryOf(herald, eventId);
      expect(delivery).toMatchObject({
        status: "pending",
        attempt_count: 1,
        last_status: status,
        last_error: "redirect",
      });
      expect(delivery.next_attempt_at!.getTime() - delivery.created_at.getTime()).toBe(3600);
      // The attempt is recorded, so a followed redirect would already have reached the target.
      expect(redirecting.received.map((r) => r.path)).toEqual(["/hook"]);
      expect(target.received).toHaveLength(0);
    },
  );
});

describe("success is any 2xx by default", () => {
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: "0.0001" } });
  const startReceiver = useReceivers();

  it.each([201, 202, 204])("%i succeeds at the first attempt", async (status) => {
    const { herald } = scene;
    const receiver = await startReceiver({ status });
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: receiver.url });
    const found = await settledDelivery(herald, await emit(herald, merchant));
    expect(found.delivery.status).toBe("succeeded");
    expect(found.attempts.map((a) => [a.response_status, a.error])).toEqual([[status, null]]);
  });
});

describe("HERALD_SUCCESS_STATUS=200: only 200 counts, as BizFlex states", () => {
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: "0.0001", HERALD_SUCCESS_STATUS: "200" } });
  const startReceiver = useReceivers();

  it("201 and 204 are failures retried on schedule; the 200 that follows succeeds", async () => {
    const { herald } = scene;
    const statuses = [201, 204, 200];
    const receiver = await startReceiver((_request, index) => ({ status: statuses[index] ?? 500 }));
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: receiver.url, retry_policy: "test" });
    const found = await settledDelivery(herald, await emit(herald, merchant));
    expect(found.delivery.status).toBe("succeeded");
    expect(found.attempts.map((a) => [a.response_status, a.error])).toEqual([
      [201, "http_status"],
      [204, "http_status"],
      [200, null],
    ]);
    expect(receiver.received).toHaveLength(3);
  });
});
