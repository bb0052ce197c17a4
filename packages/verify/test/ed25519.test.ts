import { generateKeyPairSync, sign } from "node:crypto";
import { deliveryHeaders, generateSecret } from "@herald/core";
import { describe, expect, it } from "vitest";
import { verify } from "../src/index.ts";
import { reason } from "./rejection.ts";

// Signed by Node's own Ed25519 (not Herald's signer), so the verifier is checked against an
// independent implementation of Standard Webhooks' v1a.
const now = 1_790_000_000;
const body = JSON.stringify({ id: "evt_1", type: "payment.succeeded", created_at: "t", data: { amount: 1 } });
const at = { now: () => now * 1000 };

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return { privateKey, whpk: `whpk_${raw.toString("base64")}` };
}

function headers(keys: ReturnType<typeof keyPair>[], options: { body?: string; timestamp?: number } = {}) {
  const timestamp = options.timestamp ?? now;
  const content = Buffer.from(`msg_1.${timestamp}.${options.body ?? body}`);
  return {
    "webhook-id": "msg_1",
    "webhook-timestamp": String(timestamp),
    "webhook-signature": keys
      .map((k) => `v1a,${sign(null, content, k.privateKey).toString("base64")}`)
      .join(" "),
  };
}

describe("verify checks standard-ed25519 (v1a) signatures with whpk_ public keys", () => {
  it("accepts a v1a delivery, telling the scheme from the whpk_ prefix or from `scheme`", async () => {
    const key = keyPair();
    await expect(verify(body, headers([key]), { secret: key.whpk, ...at })).resolves.toMatchObject({
      id: "evt_1",
    });
    await expect(
      verify(new TextEncoder().encode(body), new Headers(headers([key])), {
        secret: [key.whpk],
        scheme: "standard-ed25519",
        ...at,
      }),
    ).resolves.toMatchObject({ type: "payment.succeeded" });
  });

  it("accepts either key's signature during a rotation, and refuses every other key", async () => {
    const [next, previous, stranger] = [keyPair(), keyPair(), keyPair()];
    const both = headers([next, previous]);
    await expect(verify(body, both, { secret: previous.whpk, ...at })).resolves.toBeDefined();
    await expect(verify(body, both, { secret: [stranger.whpk, next.whpk], ...at })).resolves.toBeDefined();
    expect(await reason(verify(body, both, { secret: stranger.whpk, ...at }))).toBe("no_matching_signature");
  });

  it("refuses a changed body, a stale timestamp, and v1 (HMAC) signatures under a public key", async () => {
    const key = keyPair();
    expect(await reason(verify(`${body} `, headers([key]), { secret: key.whpk, ...at }))).toBe(
      "no_matching_signature",
    );
    expect(
      await reason(verify(body, headers([key], { timestamp: now - 301 }), { secret: key.whpk, ...at })),
    ).toBe("timestamp_out_of_tolerance");
    const hmac = deliveryHeaders({
      scheme: "standard",
      secrets: [generateSecret("standard")],
      id: "msg_1",
      timestamp: now,
      body,
      hexHeader: "x-signature",
      userAgent: "t",
    });
    expect(await reason(verify(body, hmac, { secret: key.whpk, ...at }))).toBe("no_matching_signature");
  });

  it("verifies what Herald's own signer sends, from the public key Herald shows", async () => {
    const { publicKeyOf } = await import("@herald/core");
    const signingKey = generateSecret("standard-ed25519");
    const sent = deliveryHeaders({
      scheme: "standard-ed25519",
      secrets: [signingKey],
      id: "msg_1",
      timestamp: now,
      body,
      hexHeader: "x-signature",
      userAgent: "t",
    });
    await expect(verify(body, sent, { secret: publicKeyOf(signingKey)!, ...at })).resolves.toBeDefined();
  });

  it("throws a TypeError for a key that is not whpk_ and 32 bytes", async () => {
    const key = keyPair();
    await expect(
      verify(body, headers([key]), { secret: "whpk_AAAA", scheme: "standard-ed25519", ...at }),
    ).rejects.toBeInstanceOf(TypeError);
  });
});
