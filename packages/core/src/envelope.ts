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
