import type { FastifyInstance } from "fastify";
import { HttpProblem } from "./problems.ts";

/**
 * What event data may hold so that it is delivered exactly as sent. Event data is stored as the
 * bytes `JSON.stringify` makes of the parsed body, so two things the parser accepts would otherwise
 * change on the way (or fail late, as a 500):
 *
 * - Numbers a double cannot hold: `1e400` parses to Infinity and is delivered as `null`,
 *   `12345678901234567890` as `12345678901234567000`, `1e-400` as `0`. They are refused with 400
 *   naming the JSON path; a sender who needs such values sends them as strings. (Keeping them
 *   exactly would mean carrying the raw number text through hashing, the envelope and every reader
 *   of `data`; refusing is honest and cheap.) A number is accepted when the text delivered denotes
 *   the same value as the text sent: `1.0`, `1e2` and `0.1` are fine (delivered as `1`, `100`, `0.1`).
 * - Nesting deeper than {@link maxDataDepth} levels: thousands of levels overflow the stack of
 *   `JSON.stringify` (and of every receiver's parser).
 */
export const maxDataDepth = 400;

/**
 * Parses JSON bodies as Fastify does (secure-json-parse: `__proto__` and `constructor` poisoning
 * refused), then refuses numbers that would not be delivered as sent. Registered in the events
 * plugin only, where bodies become deliveries.
 */
export function exactNumbersJsonParser(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    parse(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      // One more pass over the text, about as fast as JSON.parse's own (see inexactNumberPath).
      const path = inexactNumberPath(body as string);
      if (path === undefined) return done(null, value);
      done(
        new HttpProblem(
          "validation",
          `${path || "body"}: this number cannot be delivered exactly as sent (beyond a double's range or ` +
            "precision); send it as a string.",
          path || undefined,
        ),
        undefined,
      );
    });
  });
}

/** Refuses data nested deeper than {@link maxDataDepth}, naming `field`. */
export function checkDataDepth(data: unknown, field: string): void {
  if (depthExceeds(data, maxDataDepth)) {
    throw new HttpProblem("validation", `${field}: nested deeper than ${maxDataDepth} levels.`, field);
  }
}

// Recursion stops at `limit` levels, so it never goes deeper than the limit itself.
function depthExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (depthExceeds(item, limit - 1)) return true;
  } else {
    for (const key in value)
      if (depthExceeds((value as Record<string, unknown>)[key], limit - 1)) return true;
  }
  return false;
}

type Frame = { key: string | undefined; index: number; inObject: boolean; expectKey: boolean };

/**
 * The dotted path (`events.3.data.amount`) of the first number in `text` (valid JSON) that does
 * not survive JSON.parse and JSON.stringify as the same value, or undefined when all do. One pass:
 * strings are skipped with indexOf, keys kept as raw slices and decoded only for the answer, and
 * only numbers long enough to be lossy are checked.
 */
export function inexactNumberPath(text: string): string | undefined {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = text.indexOf('"', i + 1);
      while (escaped(text, end)) end = text.indexOf('"', end + 1);
      const frame = stack[stack.length - 1];
      if (frame?.inObject && frame.expectKey) frame.key = text.slice(i, end + 1);
      i = end + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push({ key: undefined, index: 0, inObject: c === 0x7b, expectKey: c === 0x7b });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x3a /* : */) {
      stack[stack.length - 1]!.expectKey = false;
      i++;
    } else if (c === 0x2c /* , */) {
      const frame = stack[stack.length - 1]!;
      if (frame.inObject) frame.expectKey = true;
      else frame.index++;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      // Up to 15 characters hold at most 15 digits and a two-digit exponent: always exact.
      if (end - i > 15 || /[eE]/.test(text.slice(i, end))) {
        if (!sameValue(text.slice(i, end))) {
          return stack.map((f) => (f.inObject ? (JSON.parse(f.key!) as string) : String(f.index))).join(".");
        }
      }
      i = end;
    } else {
      i++;
    }
  }
  return undefined;
}

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

// Digits, `.`, `e`, `E`, `+`, `-`: what a JSON number is made of.
const isNumberChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;

/** Whether the number `token` (JSON syntax) comes back from a double as the same decimal value. */
function sameValue(token: string): boolean {
  const parsed = Number(token);
  if (!Number.isFinite(parsed)) return false;
  return decimal(token) === decimal(String(parsed));
}

/** A number's text in one canonical form, `<sign><digits>e<exponent>`, trailing zeros moved out. */
function decimal(text: string): string {
  const negative = text.startsWith("-");
  const unsigned = negative || text.startsWith("+") ? text.slice(1) : text;
  const [mantissa = "", exponent = "0"] = unsigned.split(/[eE]/);
  const [whole = "", fraction = ""] = mantissa.split(".");
  let digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  let power = BigInt(exponent) - BigInt(fraction.length);
  const trimmed = digits.replace(/0+$/, "");
  power += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${negative ? "-" : ""}${digits}e${power}`;
}
