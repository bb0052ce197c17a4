import { randomBytes } from "node:crypto";

/** The resources that carry ids, and the prefix each id starts with. */
export const idPrefixes = {
  merchant: "mch",
  apiKey: "key",
  endpoint: "ep",
  event: "evt",
  delivery: "dlv",
  attempt: "att",
  operation: "op",
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
const pattern = /^[0-7][0-9a-hjkmnp-tv-z]{25}$/;

/**
 * A TypeID: `<prefix>_` then a UUIDv7 in 26 Crockford base32 characters. The 48-bit millisecond
 * timestamp leads, so ids sort by creation time and serve as pagination cursors.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `${idPrefixes[kind]}_${encode(bytes)}`;
}

/** Whether `id` is well formed for `kind`; routes answer 404 for anything else. */
export function isId(kind: IdKind, id: string): boolean {
  const prefix = `${idPrefixes[kind]}_`;
  return id.startsWith(prefix) && pattern.test(id.slice(prefix.length));
}

function encode(bytes: Buffer): string {
  let value = BigInt(`0x${bytes.toString("hex")}`);
  let out = "";
  for (let i = 0; i < 26; i++) {
    out = alphabet[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}
