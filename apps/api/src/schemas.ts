import { type IdKind, idPrefixes, maxUrlLength, modes } from "@herald/core";
import { type TSchema, Type } from "typebox";

/** Schemas shared by several resources; each resource keeps its own beside its routes. */

/** One of a closed set of strings, as a JSON Schema `enum`, so a refusal can list the choices. */
export function OneOf<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}

export const Mode = OneOf(modes);

// Postgres cannot store NUL, and an unpaired UTF-16 surrogate would silently become U+FFFD: both
// are refused. Ajv matches patterns with the `u` flag, where a surrogate pair is one character.
const storable = "\\u0000\\uD800-\\uDFFF";

/** A string Postgres stores exactly as sent. */
export function Text(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ pattern: `^[^${storable}]*$`, ...options });
}

/** A URL as typed: no whitespace or control characters, which URL parsers drop silently. */
export const Url = Type.String({
  minLength: 1,
  maxLength: maxUrlLength,
  pattern: `^[^\\s\\u0001-\\u001f\\u007f${storable}]*$`,
});

/** A JSON object of string values. Type.Record cannot bound its keys; `propertyNames` does. */
export function StringMap(
  keys: TSchema,
  values: TSchema,
  options: { maxProperties: number; description?: string },
) {
  return Type.Unsafe<Record<string, string>>({
    type: "object",
    propertyNames: keys,
    additionalProperties: values,
    ...options,
  });
}

export const Metadata = StringMap(Text({ minLength: 1, maxLength: 64 }), Text({ maxLength: 512 }), {
  maxProperties: 50,
  description: "Free-form string pairs for your own bookkeeping.",
});

/** RFC 3339, from 1970 to 9999, no leap second: what Herald can store and compare. */
export const Timestamp = Type.String({ format: "date-time" });

const typeId = "[0-7][0-9a-hjkmnp-tv-z]{25}";

/** A well-formed id of one kind, for ids given in a body or query (path ids answer 404 instead). */
export function Id(kind: IdKind, options: { description?: string } = {}) {
  return Type.String({ pattern: `^${idPrefixes[kind]}_${typeId}$`, ...options });
}

/** A path segment naming a resource: a malformed id answers 404 like an unknown one. */
export const PathId = Type.String({ maxLength: 64 });

export const MerchantParams = Type.Object({ mid: PathId });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    field: Type.Optional(Type.String({ description: "The request field at fault, dotted." })),
  },
  { $id: "Problem", description: "RFC 9457 problem details." },
);

export const PageQuery = {
  // Required in the type, since validation fills the default in; optional to send (see openapi.ts).
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(
    Type.String({
      pattern: `^[a-z]+_${typeId}$`,
      description: "Opaque: `next_cursor` of the previous page.",
    }),
  ),
};

/** One page of a list, newest first; `next_cursor` is null on the last page. */
export function listOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}

export const NoQuery = Type.Object({}, { additionalProperties: false });

export const NoContent = Type.Null({ description: "Done; no body." });

const problemStatuses = [400, 401, 403, 404, 409, 413, 415, 503] as const;

/** The problem+json errors any keyed route can give, as OpenAPI responses. */
export const problemResponses = Object.fromEntries(
  problemStatuses.map((status) => [
    status,
    {
      description: "A problem: the request was refused or could not be served.",
      content: { "application/problem+json": { schema: Type.Ref("Problem") } },
    },
  ]),
);

/**
 * A route's documented answers: its successes (also what it serializes: fields not in the schema
 * never leave the server) and the problems. Typed as the successes, so handlers are checked
 * against them.
 */
export function answers<T extends Record<number, TSchema>>(successes: T): T {
  return { ...successes, ...problemResponses };
}

/** The named retry schedules, as GET /v1/retry-policies publishes them. */
export const RetryPolicyList = Type.Object({
  data: Type.Array(
    Type.Object({
      name: OneOf(["live", "test", "exponential"]),
      attempts: Type.Integer({ description: "How many attempts the schedule makes at most." }),
      offsets_seconds: Type.Array(Type.Number(), {
        description: "When each attempt is due, in seconds after the first.",
      }),
      window_seconds: Type.Optional(Type.Number({ description: "When the last attempt is due." })),
    }),
  ),
});
