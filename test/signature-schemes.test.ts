import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  emit,
  type Received,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

const data = { amount: 1030000, currency: "ZAR", customer: { email: "é@example.com" }, tags: ["a", "b"] };

function headersOf(request: Received): Record<string, string> {
  return request.headers as Record<string, string>;
}

/** The seeds' own verification: a plain node:crypto HMAC of the raw body, compared in constant time. */
function hexVerifies(
  algorithm: "sha256" | "sha512",
  secret: string,
  body: string,
  signature: string,
): boolean {
  const expected = createHmac(algorithm, secret).update(body).digest("hex");
  return (
    signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  );
}

describe("standard scheme: verified by the standardwebhooks and svix libraries", () => {
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: "0.0001" },
    receiver: (request, index) => ({
      status: JSON.parse(request.body).data.fail && index === 0 ? 500 : 200,
    }),
  });

  beforeAll(async () => {
    // 10 hours become 3.6 s: enough for two attempts of one delivery to carry different timestamps.
  });

  it("every attempt verifies; webhook-id is the event id on each, webhook-timestamp the attempt's own time", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: receiver.url,
      retry_policy: { custom: [36_000] },
    });
    const eventId = await emit(herald, merchant, { data: { ...data, fail: true } });

    const found = await settledDelivery(herald, eventId);
    expect(found.delivery.status).toBe("succeeded");
    expect(receiver.received).toHaveLength(2);
    for (const [i, request] of receiver.received.entries()) {
      const headers = headersOf(request);
      expect(new StandardWebhook(endpoint.secret).verify(request.body, headers)).toEqual(
        JSON.parse(request.body),
      );
      // svix answers nothing and throws when a signature does not verify.
      expect(() => new SvixWebhook(endpoint.secret).verify(request.body, headers)).not.toThrow();
      expect(headers["webhook-id"]).toBe(eventId);
      // The attempt as recorded carries the very headers that were sent, and its own start time.
      const attempt = found.attempts[i]!;
      expect(attempt.request_headers["webhook-signature"]).toBe(headers["webhook-signature"]);
      expect(Number(headers["webhook-timestamp"])).toBe(Math.floor(attempt.started_at.getTime() / 1000));
    }
    const [first, second] = receiver.received.map((r) => Number(headersOf(r)["webhook-timestamp"]));
    expect(second! - first!).toBeGreaterThanOrEqual(3);
    expect(second! - first!).toBeLessThanOrEqual(4);
  });

  it("during a rotation's grace period it carries one signature per valid secret, each verifying alone", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: receiver.url });
    const rotated = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/endpoints/${endpoint.id}/rotate-secret`,
      {},
    );
    expect(rotated.status).toBe(200);
    const before = receiver.received.length;
    const eventId = await emit(herald, merchant, { data });
    await receiver.waitFor(before + 1);

    const request = receiver.received[before]!;
    const headers = headersOf(request);
    expect(headers["webhook-id"]).toBe(eventId);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [rotated.body.secret, endpoint.secret]) {
      expect(new StandardWebhook(secret).verify(request.body, headers)).toEqual(JSON.parse(request.body));
      expect(() => new SvixWebhook(secret).verify(request.body, headers)).not.toThrow();
    }
    const stranger = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => new StandardWebhook(stranger).verify(request.body, headers)).toThrow();
    expect(() => new SvixWebhook(stranger).verify(request.body, headers)).toThrow();
  });
});

describe("hex schemes: a plain HMAC of the raw body, in the deployment's header", () => {
  for (const [header, env] of [
    ["x-signature", {}],
    ["x-startbutton-signature", { HERALD_SIGNATURE_HEADER: "X-Startbutton-Signature" }],
  ] as const) {
    describe(`header ${header}`, () => {
      const scene = useHerald({ env });

      for (const [scheme, algorithm] of [
        ["hmac-sha256-hex", "sha256"],
        ["hmac-sha512-hex", "sha512"],
      ] as const) {
        it(`${scheme} verifies with crypto.createHmac('${algorithm}', secret)`, async () => {
          const { herald, receiver } = scene;
          const merchant = await createMerchant(herald);
          const endpoint = await createEndpoint(herald, merchant, {
            url: receiver.url,
            signature_scheme: scheme,
          });
          const before = receiver.received.length;
          const eventId = await emit(herald, merchant, { data });
          await receiver.waitFor(before + 1);

          const request = receiver.received[before]!;
          const headers = headersOf(request);
          const signature = headers[header]!;
          expect(signature).toMatch(algorithm === "sha256" ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{128}$/);
          expect(hexVerifies(algorithm, endpoint.secret, request.body, signature)).toBe(true);
          // PayFlow's sample signs JSON.stringify(parsed body): the same bytes, so the same signature.
          expect(
            hexVerifies(algorithm, endpoint.secret, JSON.stringify(JSON.parse(request.body)), signature),
          ).toBe(true);
          expect(hexVerifies(algorithm, `${endpoint.secret}x`, request.body, signature)).toBe(false);
          expect(headers["webhook-signature"]).toBeUndefined();
          expect(headers["webhook-id"]).toBe(eventId);
          if (header !== "x-signature") expect(headers["x-signature"]).toBeUndefined();
          const found = await settledDelivery(herald, eventId);
          expect(found.attempts[0]!.request_headers[header]).toBe(signature);
        });
      }
    });
  }
});
