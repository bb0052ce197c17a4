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
  relaySession: "rls",
  relayRequest: "rlr",
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
const pattern = /^[0-7][0-9a-hjkmnp-tv-z]{25}$/;

/**
 * A TypeID: `<prefix>_` then a UUIDv7 in 26 Crockford base32 characters. The 48-bit millisecond
 * timestamp leads, so ids sort by creation time and serve as pagination cursors.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  return `${idPrefixes[kind]}_${encode(nextBytes(now))}`;
}

// The last id's time and bytes in this process.
let last: { now: number; bytes: Buffer } | undefined;
const tailBits = (1n << 62n) - 1n;

/**
 * UUIDv7 bytes for `now`. Within one millisecond of this process, ids come in the order they were
 * made (RFC 9562's monotonic random): the 62 random bits after the variant grow by a random step.
 * So the events of one batch, made in the same millisecond, sort in their batch order, which FIFO
 * endpoints deliver by. The step keeps the next id unguessable from the last.
 */
function nextBytes(now: number): Buffer {
  if (last?.now === now) {
    const bytes = Buffer.from(last.bytes);
    const tail = (bytes.readBigUInt64BE(8) & tailBits) + 1n + BigInt(randomBytes(4).readUInt32BE(0));
    if (tail <= tailBits) {
      bytes.writeBigUInt64BE(tail | (2n << 62n), 8);
      last = { now, bytes };
      return bytes;
    }
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  last = { now, bytes };
  return bytes;
}

/** Whether `id` is well formed for `kind`; routes answer 404 for anything else. */
export function isId(kind: IdKind, id: string): boolean {
  const prefix = `${idPrefixes[kind]}_`;
  return id.startsWith(prefix) && pattern.test(id.slice(prefix.length));
}

/** 128 bits as 26 base32 characters, most significant first (the first carries only 3 bits). */
function encode(bytes: Buffer): string {
  let out = "";
  // Bit offset of each character's 5 bits within a 130-bit string whose first two bits are zero.
  for (let bit = -2; bit < 128; bit += 5) {
    let value = 0;
    for (let b = bit; b < bit + 5; b++)
      value = (value << 1) | (b < 0 ? 0 : (bytes[b >> 3]! >> (7 - (b & 7))) & 1);
    out += alphabet[value];
  }
  return out;
}
