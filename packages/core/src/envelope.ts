/** What a receiver gets as the request body: the event, in this key order. */
export interface Envelope {
  id: string;
  type: string;
  created_at: string;
  data: unknown;
}

/**
 * The exact bytes delivered and signed. `JSON.stringify` of the envelope, so a receiver that parses
 * and re-serialises the body (as the PayFlow sample does) computes the same signature.
 */
export function envelopeBody(event: Envelope): string {
  return JSON.stringify({ id: event.id, type: event.type, created_at: event.created_at, data: event.data });
}

export const timestampFormats = ["iso", "iso-seconds", "unix"] as const;
export type TimestampFormat = (typeof timestampFormats)[number];

/**
 * How a delivery profile shapes the body: which of `id` and `created_at` it carries, what the type
 * field is called, and how the time is written. Keys always come in the order id, type, created_at,
 * data; `data` is always there.
 */
export interface EnvelopeShape {
  type_field: string;
  id: boolean;
  created_at: boolean;
  timestamp_format: TimestampFormat;
}

/** The shape `events.body` is stored in: SPEC §4's `{id, type, created_at, data}`. */
export const standardEnvelope: EnvelopeShape = {
  type_field: "type",
  id: true,
  created_at: true,
  timestamp_format: "iso",
};

export function isStandardEnvelope(shape: EnvelopeShape): boolean {
  return shape.type_field === "type" && shape.id && shape.created_at && shape.timestamp_format === "iso";
}

/**
 * The bytes one delivery sends, from the event's stored body and its endpoint's envelope shape.
 * The standard shape sends the stored bytes untouched; any other is re-built from them and is again
 * exactly `JSON.stringify` output, so a receiver that re-serialises the parsed body still verifies
 * (`data` survives the round trip unchanged: it was `JSON.stringify` output to begin with).
 */
export function shapedBody(storedBody: string, shape: EnvelopeShape): string {
  if (isStandardEnvelope(shape)) return storedBody;
  const event = JSON.parse(storedBody) as Envelope;
  // Built from entries: a type field named like an Object.prototype key (`__proto__`) stays a field.
  const entries: [string, unknown][] = [];
  if (shape.id) entries.push(["id", event.id]);
  entries.push([shape.type_field, event.type]);
  if (shape.created_at)
    entries.push(["created_at", formatTimestamp(event.created_at, shape.timestamp_format)]);
  entries.push(["data", event.data]);
  return JSON.stringify(Object.fromEntries(entries));
}

function formatTimestamp(iso: string, format: TimestampFormat): string | number {
  if (format === "unix") return Math.floor(Date.parse(iso) / 1000);
  if (format === "iso-seconds") return `${iso.slice(0, 19)}Z`;
  return iso;
}
