import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  deliveryHeaders,
  generateSecret,
  isValidSecret,
  publicKeyOf,
  signatureHeader,
} from "../src/index.ts";

const spkiOf = (whpk: string) =>
  createPublicKey({
    key: Buffer.concat([
      Buffer.from("302a300506032b6570032100", "hex"),
      Buffer.from(whpk.slice(5), "base64"),
    ]),
    format: "der",
    type: "spki",
  });

const input = { id: "msg_1", timestamp: 1_790_000_000, body: '{"a":1}', hexHeader: "x-signature" };

describe("standard-ed25519 signing keys and v1a signatures", () => {
  it("generates a 64-byte whsk_ key (seed, then public key) whose whpk_ key verifies its signatures", () => {
    const key = generateSecret("standard-ed25519");
    expect(key).toMatch(/^whsk_[A-Za-z0-9+/]{86}==$/);
    expect(isValidSecret("standard-ed25519", key)).toBe(true);
    const whpk = publicKeyOf(key)!;
    expect(Buffer.from(key.slice(5), "base64").subarray(32).toString("base64")).toBe(whpk.slice(5));
    const [name, value] = signatureHeader({ scheme: "standard-ed25519", secrets: [key], ...input });
    expect(name).toBe("webhook-signature");
    expect(value).toMatch(/^v1a,/);
    const signed = Buffer.from(`${input.id}.${input.timestamp}.${input.body}`);
    expect(verify(null, signed, spkiOf(whpk), Buffer.from(value.slice(4), "base64"))).toBe(true);
  });

  it("signs the same with a key given as its 32-byte seed alone", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const seed = Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url");
    const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
    const short = `whsk_${seed.toString("base64")}`;
    const long = `whsk_${Buffer.concat([seed, raw]).toString("base64")}`;
    expect(publicKeyOf(short)).toBe(`whpk_${raw.toString("base64")}`);
    expect(publicKeyOf(long)).toBe(publicKeyOf(short));
    // Ed25519 is deterministic: the same key and content give the same signature.
    const sign = (secret: string) =>
      signatureHeader({ scheme: "standard-ed25519", secrets: [secret], ...input })[1];
    expect(sign(short)).toBe(sign(long));
  });

  it("puts one signature per valid key, newest first, and none for an empty list", () => {
    const [next, previous] = [generateSecret("standard-ed25519"), generateSecret("standard-ed25519")];
    const headers = deliveryHeaders({
      scheme: "standard-ed25519",
      secrets: [next, previous],
      userAgent: "Herald",
      ...input,
    });
    const parts = headers["webhook-signature"]!.split(" ");
    expect(parts).toHaveLength(2);
    const signed = Buffer.from(`${input.id}.${input.timestamp}.${input.body}`);
    const ok = (whpk: string, part: string) =>
      verify(null, signed, spkiOf(whpk), Buffer.from(part.slice(4), "base64"));
    expect(ok(publicKeyOf(next)!, parts[0]!)).toBe(true);
    expect(ok(publicKeyOf(previous)!, parts[1]!)).toBe(true);
    expect(signatureHeader({ scheme: "standard-ed25519", secrets: [], ...input })[1]).toBe("");
  });

  it("refuses what is not a whsk_ Ed25519 key", () => {
    const seed = Buffer.alloc(32, 7).toString("base64");
    for (const bad of [
      `whsec_${seed}`,
      "whsk_",
      `whsk_${Buffer.alloc(31).toString("base64")}`,
      `whsk_${Buffer.alloc(64, 1).toString("base64")}`,
      "whsk_%%%%",
    ])
      expect(isValidSecret("standard-ed25519", bad), bad).toBe(false);
    expect(publicKeyOf(`whsec_${seed}`)).toBeUndefined();
    // A whsk_ key is no secret for the other schemes' formats either.
    expect(isValidSecret("standard", `whsk_${seed}`)).toBe(false);
  });
});
