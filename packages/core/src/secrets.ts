import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import type { Mode } from "./modes.ts";

/**
 * Endpoint secrets at rest: AES-256-GCM under the deployment's key, stored as
 * `v1.<iv>.<tag>.<ciphertext>` in base64url so a future key rotation can tell boxes apart.
 */
export function sealSecret(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), sealed]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

export function openSecret(key: Buffer, box: string): string {
  const [version, iv, tag, sealed] = box.split(".");
  if (version !== "v1" || !iv || !tag || !sealed) throw new Error("not a sealed secret");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(sealed, "base64url")), decipher.final()]).toString(
    "utf8",
  );
}

/** A merchant API key: `hk_<mode>_` and 32 random base62-ish characters. Only its hash is stored. */
export function generateApiKey(mode: Mode): string {
  return `hk_${mode}_${randomBytes(24).toString("base64url")}`;
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/**
 * A key check value: what an HMAC of a fixed label under the key gives. Stored once, it tells a
 * process at start whether it was given the deployment's key, without storing the key.
 */
export function keyCheckValue(key: Buffer): string {
  return createHmac("sha256", key).update("herald encryption key check v1").digest("base64url");
}

interface Expiring {
  expires_at: string | null;
}

/**
 * A rotation: `fresh` signs from now on, and every secret still valid keeps signing until the grace
 * period ends (or its own earlier end); those already over are dropped. Newest first.
 */
export function rotatedSecrets<S extends Expiring>(
  current: S[],
  fresh: S,
  graceHours: number,
  now: number,
): S[] {
  const graceEnds = new Date(now + graceHours * 3_600_000).toISOString();
  return [
    fresh,
    ...current
      .map((s) => ({ ...s, expires_at: s.expires_at && s.expires_at < graceEnds ? s.expires_at : graceEnds }))
      .filter((s) => Date.parse(s.expires_at) > now),
  ];
}

/** When the last of the previous secrets stops signing; null when none does. */
export function previousSecretsExpireAt(secrets: Expiring[]): string | null {
  return (
    secrets
      .map((s) => s.expires_at ?? "")
      .sort()
      .at(-1) || null
  );
}
