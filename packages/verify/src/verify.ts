/**
 * Verifying a Herald delivery over the exact bytes received. Web Crypto only (no dependency, no
 * `node:` import), so the same code runs in Node ≥ 20, Bun, Deno and edge runtimes; its HMAC
 * `verify` compares in constant time.
 */

export type SignatureScheme = "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";

export interface VerifyOptions {
  /**
   * The endpoint's secret; during a rotation, every secret that may sign (any one match is enough).
   * For `standard-ed25519`, its `whpk_` public key(s).
   */
  secret: string | readonly string[];
  /**
   * The endpoint's `signature_scheme`. When absent: `standard-ed25519` if every secret is a `whpk_`
   * public key (Standard Webhooks' prefixes say which scheme a key is for), else `standard`.
   */
  scheme?: SignatureScheme;
  /**
   * How far `webhook-timestamp` may be from now, in seconds; 300 by default. Only `standard` signs
   * the timestamp, so only there does this stop replays.
   */
  toleranceSeconds?: number;
  /** The header the hex schemes sign in: the deployment's HERALD_SIGNATURE_HEADER, `x-signature` by default. */
  signatureHeader?: string;
  /** The current time in milliseconds; for tests. */
  now?: () => number;
}

/** The body of every delivery: the event as emitted. */
export interface HeraldEvent<Type extends string = string, Data = unknown> {
  id: string;
  type: Type;
  created_at: string;
  data: Data;
}

/**
 * The events a receiver expects, from a map of type to data:
 * `EventOf<{ "payment.succeeded": { amount: number } }>` narrows `data` by `type`.
 */
export type EventOf<Events extends Record<string, unknown>> = {
  [Type in keyof Events & string]: HeraldEvent<Type, Events[Type]>;
}[keyof Events & string];

export type VerificationFailure =
  | "missing_header"
  | "malformed_header"
  | "timestamp_out_of_tolerance"
  | "no_matching_signature"
  | "malformed_body";

export class WebhookVerificationError extends Error {
  readonly reason: VerificationFailure;
  constructor(reason: VerificationFailure, message: string) {
    super(message);
    this.name = "WebhookVerificationError";
    this.reason = reason;
  }
}

/** Headers as any framework gives them: a Web `Headers`, or Node's lower-cased record. */
export type HeaderSource = Headers | Record<string, string | readonly string[] | undefined>;

export type RawBody = Uint8Array | ArrayBuffer | string;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const value = record[name] ?? record[Object.keys(record).find((k) => k.toLowerCase() === name) ?? ""];
  return Array.isArray(value) ? value.join(",") : (value as string | undefined);
}

function required(headers: HeaderSource, name: string): string {
  const value = header(headers, name);
  if (!value) throw new WebhookVerificationError("missing_header", `The ${name} header is missing.`);
  return value;
}

const encoder = new TextEncoder();
const bytesOf = (body: RawBody): Uint8Array<ArrayBuffer> =>
  typeof body === "string"
    ? encoder.encode(body)
    : body instanceof ArrayBuffer
      ? new Uint8Array(body)
      : new Uint8Array(body as Uint8Array<ArrayBuffer>);

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function fromHex(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) return undefined;
  return Uint8Array.from(text.match(/../g)!, (pair) => Number.parseInt(pair, 16));
}

const hmacKey = (key: Uint8Array<ArrayBuffer>, hash: string) =>
  crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["verify"]);

/** Whether any (signature, key) pair matches `content`; each comparison is Web Crypto's own. */
async function anyMatches(
  signatures: Uint8Array<ArrayBuffer>[],
  keys: Uint8Array<ArrayBuffer>[],
  hash: string,
  content: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  for (const key of keys) {
    const imported = await hmacKey(key, hash);
    for (const signature of signatures)
      if (await crypto.subtle.verify("HMAC", imported, signature, content)) return true;
  }
  return false;
}

/** The raw 32 bytes of a `whpk_` key. */
function publicKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  const key = secret.startsWith("whpk_") ? fromBase64(secret.slice(5)) : undefined;
  if (key?.length !== 32)
    throw new TypeError("A standard-ed25519 key is whpk_ followed by 32 bytes in base64.");
  return key;
}

/** Whether any `v1a` signature verifies under any public key; Ed25519 through Web Crypto. */
async function anyEd25519Matches(
  signatures: Uint8Array<ArrayBuffer>[],
  keys: Uint8Array<ArrayBuffer>[],
  content: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  for (const key of keys) {
    const imported = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    for (const signature of signatures)
      if (await crypto.subtle.verify({ name: "Ed25519" }, imported, signature, content)) return true;
  }
  return false;
}

function standardKey(secret: string): Uint8Array<ArrayBuffer> {
  const key = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  if (!key?.length) throw new TypeError("A standard secret is whsec_ followed by base64.");
  return key;
}

/**
 * Checks the delivery's signature over `body`, the bytes exactly as received, and answers the
 * event. Throws `WebhookVerificationError` (with a `reason`) when it is not Herald's.
 */
export async function verify<Event extends HeraldEvent = HeraldEvent>(
  body: RawBody,
  headers: HeaderSource,
  options: VerifyOptions,
): Promise<Event> {
  const secrets = typeof options.secret === "string" ? [options.secret] : [...options.secret];
  if (secrets.length === 0) throw new TypeError("verify needs at least one secret.");
  const scheme =
    options.scheme ?? (secrets.every((s) => s.startsWith("whpk_")) ? "standard-ed25519" : "standard");
  const bytes = bytesOf(body);

  if (scheme === "standard" || scheme === "standard-ed25519") {
    // Both Standard Webhooks forms sign the same content; only the signature's version and algorithm differ.
    const version = scheme === "standard" ? "v1," : "v1a,";
    const id = required(headers, "webhook-id");
    const timestamp = required(headers, "webhook-timestamp");
    const signatureList = required(headers, "webhook-signature");
    const seconds = Number(timestamp);
    if (!/^\d{1,12}$/.test(timestamp))
      throw new WebhookVerificationError("malformed_header", "webhook-timestamp is not Unix seconds.");
    const tolerance = options.toleranceSeconds ?? 300;
    const now = (options.now ?? Date.now)() / 1000;
    if (Math.abs(now - seconds) > tolerance)
      throw new WebhookVerificationError(
        "timestamp_out_of_tolerance",
        `webhook-timestamp is more than ${tolerance} s from now.`,
      );
    const signatures = signatureList
      .split(" ")
      .filter((s) => s.startsWith(version))
      .map((s) => fromBase64(s.slice(version.length)))
      .filter((s): s is Uint8Array<ArrayBuffer> => s !== undefined);
    const prefix = encoder.encode(`${id}.${timestamp}.`);
    const content = new Uint8Array(prefix.length + bytes.length);
    content.set(prefix);
    content.set(bytes, prefix.length);
    const matches =
      scheme === "standard"
        ? await anyMatches(signatures, secrets.map(standardKey), "SHA-256", content)
        : await anyEd25519Matches(signatures, secrets.map(publicKeyBytes), content);
    if (!matches)
      throw new WebhookVerificationError("no_matching_signature", "No signature matches the secret.");
  } else {
    const name = (options.signatureHeader ?? "x-signature").toLowerCase();
    const signatures = required(headers, name)
      .split(",")
      .map((s) => fromHex(s.trim()))
      .filter((s): s is Uint8Array<ArrayBuffer> => s !== undefined);
    const hash = scheme === "hmac-sha256-hex" ? "SHA-256" : "SHA-512";
    const keys = secrets.map((secret) => encoder.encode(secret));
    if (!(await anyMatches(signatures, keys, hash, bytes)))
      throw new WebhookVerificationError("no_matching_signature", "No signature matches the secret.");
  }
  return parseEvent<Event>(bytes);
}

/** The event in a verified body. */
export function parseEvent<Event extends HeraldEvent = HeraldEvent>(body: RawBody): Event {
  let event: unknown;
  try {
    event = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(bytesOf(body)));
  } catch {
    throw new WebhookVerificationError("malformed_body", "The body is not JSON.");
  }
  const e = event as Partial<HeraldEvent> | null;
  if (!e || typeof e.id !== "string" || typeof e.type !== "string" || typeof e.created_at !== "string")
    throw new WebhookVerificationError("malformed_body", "The body is not a Herald event.");
  return event as Event;
}
