import { createHmac } from "node:crypto";
import fc from "fast-check";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { envelopeBody } from "../src/envelope.ts";
import {
  deliveryHeaders,
  generateSecret,
  isReservedHeader,
  isValidSecret,
  type SignatureScheme,
  signatureHeader,
} from "../src/signing.ts";

const secretA = `whsec_${Buffer.alloc(32, 0xa1).toString("base64")}`;
const secretB = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7)).toString("base64")}`;
const secretC = `whsec_${Buffer.alloc(32, 0x3c).toString("base64")}`;
const hexHeader = "x-herald-signature";

const nowSeconds = () => Math.floor(Date.now() / 1000);

function sign(secrets: string[], body: string, id = "msg_2Lq7N3pXoZ", timestamp = nowSeconds()) {
  const [name, value] = signatureHeader({ scheme: "standard", secrets, id, timestamp, body, hexHeader });
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), [name]: value } as Record<
    string,
    string
  >;
}

function toSvix(headers: Record<string, string>): Record<string, string> {
  return {
    "svix-id": headers["webhook-id"]!,
    "svix-timestamp": headers["webhook-timestamp"]!,
    "svix-signature": headers["webhook-signature"]!,
  };
}

const body = envelopeBody({
  id: "evt_01jk3m5n7p9q1r3s5t7v9w1x3y",
  type: "payment.succeeded",
  created_at: "2025-03-01T10:00:00.000Z",
  data: { amount: 4200, currency: "EUR", note: 'café ☕ "quoted"' },
});

describe("signatureHeader: standard", () => {
  it("matches the Standard Webhooks test vector", () => {
    const header = signatureHeader({
      scheme: "standard",
      secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      hexHeader,
    });
    expect(header).toEqual(["webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="]);
  });

  it("is v1,<base64 HMAC-SHA256 of id.timestamp.body keyed by the decoded secret>", () => {
    const [name, value] = signatureHeader({
      scheme: "standard",
      secrets: [secretA],
      id: "msg_1",
      timestamp: 1700000000,
      body,
      hexHeader,
    });
    const expected = createHmac("sha256", Buffer.alloc(32, 0xa1))
      .update(`msg_1.1700000000.${body}`)
      .digest("base64");
    expect(name).toBe("webhook-signature");
    expect(value).toBe(`v1,${expected}`);
    expect(value).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it("verifies with standardwebhooks", () => {
    const headers = sign([secretA], body);
    expect(new StandardWebhook(secretA).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("verifies with svix, with svix-* headers and with webhook-* headers", () => {
    const headers = sign([secretA], body);
    expect(() => new SvixWebhook(secretA).verify(body, toSvix(headers))).not.toThrow();
    expect(() => new SvixWebhook(secretA).verify(body, headers)).not.toThrow();
  });

  it("fails verification for a tampered body, another secret, another id or timestamp", () => {
    const headers = sign([secretA], body);
    const tampered = body.replace("4200", "4201");
    expect(() => new StandardWebhook(secretA).verify(tampered, headers)).toThrow();
    expect(() => new SvixWebhook(secretA).verify(tampered, toSvix(headers))).toThrow();
    expect(() => new StandardWebhook(secretC).verify(body, headers)).toThrow();
    expect(() => new SvixWebhook(secretC).verify(body, toSvix(headers))).toThrow();
    expect(() =>
      new StandardWebhook(secretA).verify(body, { ...headers, "webhook-id": "msg_other" }),
    ).toThrow();
    const ts = String(Number(headers["webhook-timestamp"]) + 1);
    expect(() =>
      new StandardWebhook(secretA).verify(body, { ...headers, "webhook-timestamp": ts }),
    ).toThrow();
  });

  it("fails verification with a timestamp outside the 5 minute tolerance", () => {
    const headers = sign([secretA], body, "msg_old", nowSeconds() - 10 * 60);
    expect(() => new StandardWebhook(secretA).verify(body, headers)).toThrow();
    expect(() => new SvixWebhook(secretA).verify(body, toSvix(headers))).toThrow();
  });

  it("adds one space-separated v1 signature per secret during a rotation, newest first", () => {
    const [, value] = signatureHeader({
      scheme: "standard",
      secrets: [secretB, secretA],
      id: "msg_1",
      timestamp: 1700000000,
      body,
      hexHeader,
    });
    const one = (secret: string) =>
      signatureHeader({
        scheme: "standard",
        secrets: [secret],
        id: "msg_1",
        timestamp: 1700000000,
        body,
        hexHeader,
      })[1];
    expect(value).toBe(`${one(secretB)} ${one(secretA)}`);
    expect(value).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });

  it("verifies with each secret alone during a rotation, with both libraries", () => {
    const headers = sign([secretB, secretA], body);
    for (const secret of [secretA, secretB]) {
      expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      expect(() => new SvixWebhook(secret).verify(body, toSvix(headers))).not.toThrow();
      expect(() => new SvixWebhook(secret).verify(body, headers)).not.toThrow();
    }
    expect(() => new StandardWebhook(secretC).verify(body, headers)).toThrow();
    expect(() => new SvixWebhook(secretC).verify(body, toSvix(headers))).toThrow();
  });

  it("verifies with standardwebhooks and svix for arbitrary JSON data (property)", () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ stringUnit: "binary" }),
        fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }).filter((s) => !/\s/.test(s)),
        fc.constantFrom(secretA, secretB, secretC),
        (data, typeSuffix, secret) => {
          const payload = envelopeBody({
            id: "evt_01jk3m5n7p9q1r3s5t7v9w1x3y",
            type: `t.${typeSuffix}`,
            created_at: "2025-03-01T10:00:00.000Z",
            data,
          });
          const headers = sign([secret], payload);
          expect(new StandardWebhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
          new SvixWebhook(secret).verify(payload, toSvix(headers));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("verifies with standardwebhooks for every secret isValidSecret accepts (property)", () => {
    const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("");
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...base64Chars), { minLength: 30, maxLength: 90 }).map((a) => a.join("")),
        fc.constantFrom("", "=", "=="),
        (chars, padding) => {
          const secret = `whsec_${chars}${padding}`;
          fc.pre(isValidSecret("standard", secret));
          const headers = sign([secret], body);
          expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
          new SvixWebhook(secret).verify(body, toSvix(headers));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("signatureHeader: hex schemes", () => {
  const fox = "The quick brown fox jumps over the lazy dog";

  it("hmac-sha256-hex is the hex HMAC-SHA256 of the raw body keyed by the secret string", () => {
    const input = {
      scheme: "hmac-sha256-hex",
      secrets: ["key"],
      id: "msg_1",
      timestamp: 1,
      body: fox,
      hexHeader,
    } as const;
    expect(signatureHeader(input)).toEqual([
      hexHeader,
      "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
    ]);
  });

  it("hmac-sha512-hex is the hex HMAC-SHA512 of the raw body keyed by the secret string", () => {
    const input = {
      scheme: "hmac-sha512-hex",
      secrets: ["key"],
      id: "msg_1",
      timestamp: 1,
      body: fox,
      hexHeader,
    } as const;
    expect(signatureHeader(input)).toEqual([
      hexHeader,
      "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a",
    ]);
  });

  it("verifies with node:crypto, the secret used as is (not decoded), the id and timestamp not signed", () => {
    const secret = "sk_live_9f8e7d6c5b4a3210";
    for (const [scheme, algorithm] of [
      ["hmac-sha256-hex", "sha256"],
      ["hmac-sha512-hex", "sha512"],
    ] as const) {
      const [name, value] = signatureHeader({
        scheme,
        secrets: [secret],
        id: "msg_1",
        timestamp: 1,
        body,
        hexHeader,
      });
      const [, other] = signatureHeader({
        scheme,
        secrets: [secret],
        id: "msg_2",
        timestamp: 2,
        body,
        hexHeader,
      });
      expect(name).toBe(hexHeader);
      expect(value).toBe(createHmac(algorithm, secret).update(body).digest("hex"));
      expect(value).toHaveLength(algorithm === "sha256" ? 64 : 128);
      expect(other).toBe(value);
    }
  });

  it("keys a whsec_-looking secret by the string as is", () => {
    const [, value] = signatureHeader({
      scheme: "hmac-sha256-hex",
      secrets: [secretA],
      id: "m",
      timestamp: 1,
      body,
      hexHeader,
    });
    expect(value).toBe(createHmac("sha256", secretA).update(body).digest("hex"));
  });

  it("uses the header name it is given", () => {
    const input = { scheme: "hmac-sha256-hex", secrets: ["key"], id: "m", timestamp: 1, body: "{}" } as const;
    expect(signatureHeader({ ...input, hexHeader: "x-payflow-signature" })[0]).toBe("x-payflow-signature");
  });

  it("carries exactly one signature during a rotation: the oldest valid secret's, until it is retired", () => {
    const newest = "new-secret-0123456789";
    const previous = "old-secret-0123456789";
    for (const [scheme, algorithm] of [
      ["hmac-sha256-hex", "sha256"],
      ["hmac-sha512-hex", "sha512"],
    ] as const) {
      const header = (secrets: string[]) =>
        signatureHeader({ scheme, secrets, id: "m", timestamp: 1, body, hexHeader })[1];
      const hmac = (secret: string) => createHmac(algorithm, secret).update(body).digest("hex");
      expect(header([newest, previous])).toBe(hmac(previous));
      expect(header([newest, "middle-secret-0123456789", previous])).toBe(hmac(previous));
      expect(header([newest])).toBe(hmac(newest));
      expect(header([newest, previous])).not.toContain(",");
    }
  });
});

describe("isValidSecret", () => {
  const b64 = (bytes: number) => Buffer.alloc(bytes, 0x5a).toString("base64");

  it("accepts whsec_ secrets of 24 to 64 bytes", () => {
    expect(isValidSecret("standard", `whsec_${b64(24)}`)).toBe(true);
    expect(isValidSecret("standard", `whsec_${b64(32)}`)).toBe(true);
    expect(isValidSecret("standard", `whsec_${b64(64)}`)).toBe(true);
    expect(isValidSecret("standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).toBe(true);
    expect(isValidSecret("standard", secretB)).toBe(true);
  });

  it("rejects standard secrets that are too short or too long", () => {
    expect(isValidSecret("standard", `whsec_${b64(23)}`)).toBe(false);
    expect(isValidSecret("standard", `whsec_${b64(65)}`)).toBe(false);
    expect(isValidSecret("standard", "whsec_")).toBe(false);
  });

  it("rejects standard secrets without the whsec_ prefix or with non-base64 characters", () => {
    expect(isValidSecret("standard", b64(32))).toBe(false);
    expect(isValidSecret("standard", `WHSEC_${b64(32)}`)).toBe(false);
    expect(isValidSecret("standard", `whsec${b64(32)}`)).toBe(false);
    expect(isValidSecret("standard", `whsec_${Buffer.alloc(32, 0xff).toString("base64url")}`)).toBe(false);
    expect(isValidSecret("standard", `whsec_${b64(32)} `)).toBe(false);
    expect(isValidSecret("standard", `whsec_ ${b64(32)}`)).toBe(false);
    expect(isValidSecret("standard", `whsec_${b64(32)}===`)).toBe(false);
    expect(isValidSecret("standard", `whsec_${b64(16)}=${b64(16)}`)).toBe(false);
  });

  it("accepts hex-scheme secrets of 16 to 128 printable ASCII characters", () => {
    for (const scheme of ["hmac-sha256-hex", "hmac-sha512-hex"] as const) {
      expect(isValidSecret(scheme, "a".repeat(16))).toBe(true);
      expect(isValidSecret(scheme, "Z".repeat(128))).toBe(true);
      expect(isValidSecret(scheme, "!~#$%&'()*+,-./0")).toBe(true);
      expect(isValidSecret(scheme, secretA)).toBe(true);
    }
  });

  it("rejects hex-scheme secrets of the wrong length or with spaces, control or non-ASCII characters", () => {
    for (const scheme of ["hmac-sha256-hex", "hmac-sha512-hex"] as const) {
      expect(isValidSecret(scheme, "a".repeat(15))).toBe(false);
      expect(isValidSecret(scheme, "a".repeat(129))).toBe(false);
      expect(isValidSecret(scheme, "")).toBe(false);
      expect(isValidSecret(scheme, "abcdefgh ijklmnop")).toBe(false);
      expect(isValidSecret(scheme, "abcdefgh\tijklmnop")).toBe(false);
      expect(isValidSecret(scheme, "abcdefghijklmnop\n")).toBe(false);
      expect(isValidSecret(scheme, "abcdefghijklmnopé")).toBe(false);
    }
  });
});

describe("generateSecret", () => {
  it("makes whsec_ + base64 of 32 random bytes for standard", () => {
    const secret = generateSecret("standard");
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(isValidSecret("standard", secret)).toBe(true);
    expect(generateSecret("standard")).not.toBe(secret);
  });

  it("makes 64 lowercase hex characters for the hex schemes", () => {
    for (const scheme of ["hmac-sha256-hex", "hmac-sha512-hex"] as const) {
      const secret = generateSecret(scheme);
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(isValidSecret(scheme, secret)).toBe(true);
      expect(generateSecret(scheme)).not.toBe(secret);
    }
  });

  it("makes a standard secret that standardwebhooks and svix accept", () => {
    const secret = generateSecret("standard");
    const headers = sign([secret], body);
    expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new SvixWebhook(secret).verify(body, toSvix(headers))).not.toThrow();
  });
});

describe("isReservedHeader", () => {
  it("reserves the hex header, webhook-* and transport headers, case-insensitively", () => {
    for (const name of [
      "X-Herald-Signature",
      "x-herald-signature",
      "webhook-id",
      "Webhook-Timestamp",
      "WEBHOOK-SIGNATURE",
      "webhook-anything",
      "Content-Type",
      "content-length",
      "Host",
      "User-Agent",
      "Connection",
      "Transfer-Encoding",
      "TE",
      "Upgrade",
    ]) {
      expect(isReservedHeader(name, "X-Herald-Signature"), name).toBe(true);
    }
  });

  it("leaves other headers to the merchant", () => {
    for (const name of [
      "x-tenant",
      "Authorization",
      "x-webhook-id",
      "content-language",
      "hosted-by",
      "x-signature",
    ]) {
      expect(isReservedHeader(name, "X-Herald-Signature"), name).toBe(false);
    }
  });
});

describe("deliveryHeaders", () => {
  const forged = {
    "X-Tenant": "acme",
    Authorization: "Bearer abc",
    "Content-Type": "text/plain",
    "content-length": "1",
    "User-Agent": "evil/1.0",
    Host: "evil.example",
    Connection: "close",
    "Transfer-Encoding": "chunked",
    TE: "trailers",
    Upgrade: "h2c",
    "webhook-id": "msg_forged",
    "Webhook-Timestamp": "1",
    "Webhook-Signature": "v1,forged",
    "X-Herald-Signature": "forged",
  };

  it("has exactly the standard headers plus allowed custom ones, lowercased; custom ones cannot override", () => {
    const timestamp = nowSeconds();
    const headers = deliveryHeaders({
      scheme: "standard",
      secrets: [secretA],
      id: "msg_1",
      timestamp,
      body,
      hexHeader: "X-Herald-Signature",
      userAgent: "Herald/0.1",
      custom: forged,
    });
    expect(headers).toEqual({
      "x-tenant": "acme",
      authorization: "Bearer abc",
      "content-type": "application/json",
      "user-agent": "Herald/0.1",
      "webhook-id": "msg_1",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": sign([secretA], body, "msg_1", timestamp)["webhook-signature"],
    });
    expect(new StandardWebhook(secretA).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new SvixWebhook(secretA).verify(body, headers)).not.toThrow();
  });

  it("has exactly the hex header, webhook-id and webhook-timestamp for a hex scheme; custom ones cannot override", () => {
    const headers = deliveryHeaders({
      scheme: "hmac-sha256-hex",
      secrets: ["sk_live_9f8e7d6c5b4a3210"],
      id: "msg_1",
      timestamp: 1700000000,
      body,
      hexHeader: "x-herald-signature",
      userAgent: "Herald/0.1",
      custom: forged,
    });
    expect(headers).toEqual({
      "x-tenant": "acme",
      authorization: "Bearer abc",
      "content-type": "application/json",
      "user-agent": "Herald/0.1",
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "x-herald-signature": createHmac("sha256", "sk_live_9f8e7d6c5b4a3210").update(body).digest("hex"),
    });
  });

  it("works without custom headers", () => {
    const scheme: SignatureScheme = "hmac-sha512-hex";
    const headers = deliveryHeaders({
      scheme,
      secrets: ["0123456789abcdef"],
      id: "msg_9",
      timestamp: 42,
      body: "{}",
      hexHeader: "x-sig",
      userAgent: "Herald/0.1",
    });
    expect(headers).toEqual({
      "content-type": "application/json",
      "user-agent": "Herald/0.1",
      "webhook-id": "msg_9",
      "webhook-timestamp": "42",
      "x-sig": createHmac("sha512", "0123456789abcdef").update("{}").digest("hex"),
    });
  });

  it("cannot be forged by any custom header (property)", () => {
    const reservedNames = [
      "content-type",
      "user-agent",
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
      "x-sig",
    ];
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(...reservedNames).chain((n) => fc.mixedCase(fc.constant(n))),
            fc.stringMatching(/^x-[a-z]{1,8}$/),
          ),
          fc.string({ maxLength: 10 }),
        ),
        (custom) => {
          const headers = deliveryHeaders({
            scheme: "standard",
            secrets: [secretA],
            id: "msg_p",
            timestamp: 1700000000,
            body,
            hexHeader: "X-Sig",
            userAgent: "Herald/0.1",
            custom,
          });
          expect(headers["content-type"]).toBe("application/json");
          expect(headers["user-agent"]).toBe("Herald/0.1");
          expect(headers["webhook-id"]).toBe("msg_p");
          expect(headers["webhook-timestamp"]).toBe("1700000000");
          expect(headers["webhook-signature"]).toBe(
            sign([secretA], body, "msg_p", 1700000000)["webhook-signature"],
          );
          expect(headers["x-sig"]).toBeUndefined();
          for (const name of Object.keys(headers)) expect(name).toBe(name.toLowerCase());
        },
      ),
    );
  });
});
