import { deliveryHeaders, generateSecret, type SignatureScheme } from "@herald/core";
import { describe, expect, it } from "vitest";
import { type EventOf, verify } from "../src/index.ts";
import { reason } from "./rejection.ts";

// Signed by Herald's own signing code, so the two sides are checked against each other.
const now = 1_790_000_000;
const body = JSON.stringify({
  id: "evt_1",
  type: "payment.succeeded",
  created_at: "t",
  data: { amount: 4999 },
});

function signed(
  scheme: SignatureScheme,
  secrets: string[],
  options: { body?: string; timestamp?: number } = {},
) {
  return deliveryHeaders({
    scheme,
    secrets,
    id: "msg_1",
    timestamp: options.timestamp ?? now,
    body: options.body ?? body,
    hexHeader: "x-signature",
    userAgent: "Herald",
  });
}

const at = { now: () => now * 1000 };

describe("verify checks Herald's signatures over the raw bytes", () => {
  it("accepts a standard delivery and answers the typed event", async () => {
    const secret = generateSecret("standard");
    type Events = EventOf<{ "payment.succeeded": { amount: number } }>;
    const event = await verify<Events>(body, signed("standard", [secret]), { secret, ...at });
    expect(event.type).toBe("payment.succeeded");
    expect(event.data.amount).toBe(4999);
    const bytes = new TextEncoder().encode(body);
    await expect(
      verify(bytes, new Headers(signed("standard", [secret])), { secret, ...at }),
    ).resolves.toMatchObject({ id: "evt_1" });
  });

  it("accepts any one of several signatures during a rotation, with either secret on the receiver", async () => {
    const [next, previous] = [generateSecret("standard"), generateSecret("standard")];
    const headers = signed("standard", [next, previous]);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    await expect(verify(body, headers, { secret: previous, ...at })).resolves.toBeDefined();
    await expect(
      verify(body, headers, { secret: [generateSecret("standard"), next], ...at }),
    ).resolves.toBeDefined();
    expect(await reason(verify(body, headers, { secret: generateSecret("standard"), ...at }))).toBe(
      "no_matching_signature",
    );
  });

  it("refuses a changed body, a changed id, or a timestamp more than 5 minutes away", async () => {
    const secret = generateSecret("standard");
    const headers = signed("standard", [secret]);
    expect(await reason(verify(body.replace("4999", "1"), headers, { secret, ...at }))).toBe(
      "no_matching_signature",
    );
    expect(await reason(verify(body, { ...headers, "webhook-id": "msg_2" }, { secret, ...at }))).toBe(
      "no_matching_signature",
    );
    const old = signed("standard", [secret], { timestamp: now - 301 });
    expect(await reason(verify(body, old, { secret, ...at }))).toBe("timestamp_out_of_tolerance");
    const future = signed("standard", [secret], { timestamp: now + 301 });
    expect(await reason(verify(body, future, { secret, ...at }))).toBe("timestamp_out_of_tolerance");
    await expect(
      verify(body, signed("standard", [secret], { timestamp: now - 299 }), { secret, ...at }),
    ).resolves.toBeDefined();
    await expect(verify(body, old, { secret, ...at, toleranceSeconds: 600 })).resolves.toBeDefined();
    expect(await reason(verify(body, { "webhook-id": "x" }, { secret, ...at }))).toBe("missing_header");
  });

  it.each(["hmac-sha256-hex", "hmac-sha512-hex"] as const)(
    "verifies %s over the body, its one signature during a rotation, its header",
    async (scheme) => {
      const [secret, previous] = [generateSecret(scheme), generateSecret(scheme)];
      // During a rotation the hex header carries one signature: the previous secret's.
      const headers = signed(scheme, [secret, previous]);
      await expect(verify(body, headers, { secret: previous, scheme })).resolves.toMatchObject({
        type: "payment.succeeded",
      });
      expect(await reason(verify(body, headers, { secret, scheme }))).toBe("no_matching_signature");
      expect(await reason(verify(`${body} `, headers, { secret: previous, scheme }))).toBe(
        "no_matching_signature",
      );
      expect(await reason(verify(body, headers, { secret: "another-secret-of-16+", scheme }))).toBe(
        "no_matching_signature",
      );
      const moved = { "x-herald-sig": headers["x-signature"]! };
      await expect(
        verify(body, moved, { secret: previous, scheme, signatureHeader: "X-Herald-Sig" }),
      ).resolves.toBeDefined();
      expect(await reason(verify(body, moved, { secret: previous, scheme }))).toBe("missing_header");
    },
  );

  it("refuses a verified body that is not a Herald event", async () => {
    const secret = generateSecret("hmac-sha256-hex");
    const headers = signed("hmac-sha256-hex", [secret], { body: "[1,2]" });
    expect(await reason(verify("[1,2]", headers, { secret, scheme: "hmac-sha256-hex" }))).toBe(
      "malformed_body",
    );
  });
});
