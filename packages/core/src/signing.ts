import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { isForbiddenCustomHeader } from "./custom-headers.ts";

/**
 * How a delivery is signed.
 * - `standard`: Standard Webhooks v1, `webhook-signature: v1,<base64 HMAC-SHA256>` over
 *   `{id}.{timestamp}.{body}`, keyed by the base64 part of a `whsec_` secret.
 * - `hmac-sha256-hex` / `hmac-sha512-hex`: the hex HMAC of the raw body alone, keyed by the secret
 *   string exactly as shown to the merchant, as the PayFlow, "Webhook" and Startbutton seeds verify it.
 * - `standard-ed25519`: Standard Webhooks' asymmetric form, `webhook-signature: v1a,<base64 Ed25519>`
 *   over the same `{id}.{timestamp}.{body}`, by a `whsk_` signing key; receivers hold only its
 *   `whpk_` public key, so a leaked verifying key lets nobody forge a delivery.
 */
export const signatureSchemes = [
  "standard",
  "hmac-sha256-hex",
  "hmac-sha512-hex",
  "standard-ed25519",
] as const;
export type SignatureScheme = (typeof signatureSchemes)[number];

const standardPrefix = "whsec_";
const signingKeyPrefix = "whsk_";
const publicKeyPrefix = "whpk_";

// An Ed25519 private key in PKCS#8 DER is this fixed prefix and the 32-byte seed (RFC 8410).
const pkcs8Ed25519Prefix = Buffer.from("302e020100300506032b657004220420", "hex");

export function generateSecret(scheme: SignatureScheme): string {
  if (scheme === "standard-ed25519") {
    const { privateKey } = generateKeyPairSync("ed25519");
    return signingKeyFromSeed(Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"));
  }
  return scheme === "standard"
    ? `${standardPrefix}${randomBytes(32).toString("base64")}`
    : randomBytes(32).toString("hex");
}

/**
 * A `whsk_` key as Standard Webhooks' libraries (libsodium's layout) write it: base64 of the 32-byte
 * seed followed by the 32-byte public key.
 */
function signingKeyFromSeed(seed: Buffer): string {
  return `${signingKeyPrefix}${Buffer.concat([seed, rawPublicKey(seed)]).toString("base64")}`;
}

function privateKeyOf(seed: Buffer) {
  return createPrivateKey({ key: Buffer.concat([pkcs8Ed25519Prefix, seed]), format: "der", type: "pkcs8" });
}

function rawPublicKey(seed: Buffer): Buffer {
  const jwk = createPublicKey(privateKeyOf(seed)).export({ format: "jwk" });
  return Buffer.from(jwk.x!, "base64url");
}

/**
 * The seed of a `whsk_` key: base64 of the 32-byte seed alone, or of the 64-byte seed and public key
 * (whose second half must then be the seed's public key). Undefined for anything else.
 */
function seedOf(signingKey: string, checkPublicHalf = true): Buffer | undefined {
  if (!signingKey.startsWith(signingKeyPrefix)) return undefined;
  const base64 = signingKey.slice(signingKeyPrefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length === 32) return bytes;
  if (bytes.length !== 64) return undefined;
  const seed = bytes.subarray(0, 32);
  return !checkPublicHalf || rawPublicKey(seed).equals(bytes.subarray(32)) ? seed : undefined;
}

// Parsed signing keys by their `whsk_` text: importing a key costs more than signing with it, and an
// endpoint signs every attempt with the same key. Bounded; the dispatcher holds these secrets anyway.
const keyObjects = new Map<string, KeyObject>();

function signingKeyObject(signingKey: string): KeyObject | undefined {
  let key = keyObjects.get(signingKey);
  if (!key) {
    // Keys were checked whole when stored; signing only needs the seed.
    const seed = seedOf(signingKey, false);
    if (!seed) return undefined;
    if (keyObjects.size >= 10_000) keyObjects.clear();
    key = privateKeyOf(seed);
    keyObjects.set(signingKey, key);
  }
  return key;
}

/** The `whpk_` public key of a `whsk_` signing key (base64 of the raw 32 bytes); undefined if it is none. */
export function publicKeyOf(signingKey: string): string | undefined {
  const seed = seedOf(signingKey);
  return seed && `${publicKeyPrefix}${rawPublicKey(seed).toString("base64")}`;
}

/** Whether a secret a merchant supplies can sign with `scheme`. */
export function isValidSecret(scheme: SignatureScheme, secret: string): boolean {
  if (scheme === "standard-ed25519") return seedOf(secret) !== undefined;
  if (scheme !== "standard") return /^[\x21-\x7e]{16,128}$/.test(secret);
  if (!secret.startsWith(standardPrefix)) return false;
  const base64 = secret.slice(standardPrefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return false;
  const length = Buffer.from(base64, "base64").length;
  return length >= 24 && length <= 64;
}

export interface SignInput {
  scheme: SignatureScheme;
  /** Every secret that is valid now, newest first: more than one during a rotation's grace period. */
  secrets: readonly string[];
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: string;
  /** The header the two hex schemes use (the endpoint's delivery profile's). */
  hexHeader: string;
}

/**
 * The signature header of one attempt.
 *
 * Standard Webhooks (`v1` and `v1a` alike): one signature per valid secret, space-separated; its
 * verifiers accept any.
 *
 * Hex schemes: exactly ONE signature, by the oldest secret still valid. The seeds' receivers compare
 * the header with one expected value (PayFlow's `timingSafeEqual` even throws on a longer header),
 * so two signatures fail whichever secret the receiver holds. During a rotation the previous secret
 * therefore signs until the switch (its grace period ends, or the merchant activates the new one,
 * which retires it), and the new one from then on. The choice is made per attempt, so a retry
 * carries the signature of the moment it is sent.
 */
export function signatureHeader(input: SignInput): [name: string, value: string] {
  if (input.scheme === "standard") {
    const content = `${input.id}.${input.timestamp}.${input.body}`;
    const signatures = input.secrets.map(
      (secret) => `v1,${createHmac("sha256", hmacKey(secret, "standard")).update(content).digest("base64")}`,
    );
    return ["webhook-signature", signatures.join(" ")];
  }
  if (input.scheme === "standard-ed25519") {
    const content = Buffer.from(`${input.id}.${input.timestamp}.${input.body}`);
    const signatures = input.secrets.map((secret) => {
      const key = signingKeyObject(secret);
      // One that is not a key at all signs nothing rather than throwing.
      if (!key) return "";
      return `v1a,${sign(null, content, key).toString("base64")}`;
    });
    return ["webhook-signature", signatures.filter(Boolean).join(" ")];
  }
  const algorithm = input.scheme === "hmac-sha256-hex" ? "sha256" : "sha512";
  const signing = input.secrets.at(-1);
  // An endpoint always keeps its newest secret without expiry; an empty list signs nothing, as
  // `standard` does.
  if (signing === undefined) return [input.hexHeader, ""];
  return [input.hexHeader, createHmac(algorithm, hmacKey(signing, "hex")).update(input.body).digest("hex")];
}

// Given a Buffer or a string, `createHmac` first rules out every other kind of key, which costs more
// than the HMAC of a small body (11 µs against 2 µs a signature in Node 24): the key objects of the
// secrets in use are kept, as many as a dispatcher's endpoints need.
const hmacKeys = new Map<string, KeyObject>();
const maxHmacKeys = 10_000;

function hmacKey(secret: string, scheme: "standard" | "hex"): KeyObject {
  const id = `${scheme}:${secret}`;
  let key = hmacKeys.get(id);
  if (!key) {
    if (hmacKeys.size >= maxHmacKeys) hmacKeys.clear();
    // A standard secret is base64 after its prefix; a hex scheme's is used as its text.
    key = createSecretKey(
      scheme === "standard"
        ? Buffer.from(secret.slice(standardPrefix.length), "base64")
        : Buffer.from(secret),
    );
    hmacKeys.set(id, key);
  }
  return key;
}

/** Headers a merchant's custom headers may not set: the ones that make a delivery what it is. */
export function isReservedHeader(name: string, hexHeader: string): boolean {
  return isForbiddenCustomHeader(name, hexHeader);
}

export interface DeliveryHeadersInput extends SignInput {
  userAgent: string;
  custom?: Record<string, string>;
}

/** Every header of one attempt's POST. */
export function deliveryHeaders(input: DeliveryHeadersInput): Record<string, string> {
  // Built as entries, never by assignment: a header may be named `__proto__`.
  const custom = Object.entries(input.custom ?? {}).flatMap(([name, value]) =>
    isReservedHeader(name, input.hexHeader) ? [] : [[name.toLowerCase(), value] as const],
  );
  const [signatureName, signature] = signatureHeader(input);
  return {
    ...Object.fromEntries(custom),
    "content-type": "application/json",
    "user-agent": input.userAgent,
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    [signatureName]: signature,
  };
}
