/**
 * What a receiver answers is stored as it came, but Postgres `text` and `jsonb` refuse two things
 * a hostile or careless receiver can send: a NUL character, and bytes that are not UTF-8 (binary,
 * gzip, UTF-16). One such answer used to fail its whole recording batch. Everything taken from a
 * response goes through here before it is written.
 */

export interface StorableBody {
  text: string;
  /** `utf8`: `text` is the body as received; `base64`: `text` is the exact bytes, base64-encoded. */
  encoding: "utf8" | "base64";
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as text when it is valid UTF-8 without NUL, else its exact bytes in base64. */
export function storableBody(bytes: Uint8Array): StorableBody {
  if (!bytes.includes(0)) {
    try {
      return { text: strictUtf8.decode(bytes), encoding: "utf8" };
    } catch {}
  }
  return {
    text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
    encoding: "base64",
  };
}

// NUL, and UTF-16 surrogates that are not part of a pair (a string decoded from bad bytes can hold
// them; Postgres cannot store them).
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is looked for
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text (a header value, an error message) with what Postgres cannot store written as a `\uXXXX`
 * escape, so a reader still sees exactly which code unit was there. Other text is unchanged.
 */
export function storableText(text: string): string;
export function storableText(text: string | null): string | null;
export function storableText(text: string | null): string | null {
  if (text === null) return null;
  return text.replace(unstorable, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Headers with every name and value made storable. */
export function storableHeaders(headers: Record<string, string>): Record<string, string>;
export function storableHeaders(headers: Record<string, string> | null): Record<string, string> | null;
export function storableHeaders(headers: Record<string, string> | null): Record<string, string> | null {
  if (headers === null) return null;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [storableText(name), storableText(value)]),
  );
}
