// The API's own OpenAPI document, walked: the isolation, bad-input and document tests cover every
// route it lists, so a new route joins their matrices by itself.
import type { TestHerald } from "./herald.ts";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked as plain JSON
export type Json = any;

export const httpMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export interface DocumentedOperation {
  /** Upper case, as sent: `GET`. */
  method: string;
  /** As documented: `/v1/merchants/{mid}/endpoints/{eid}`. */
  path: string;
  operation: Json;
  /** Whether the operation asks for a key (its own security, or the document's). */
  keyed: boolean;
  /** Whether only the admin key may call it. */
  adminOnly: boolean;
}

/** Every operation of the document. */
export function documentedOperations(doc: Json): DocumentedOperation[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    httpMethods
      .filter((method) => item[method])
      .map((method) => {
        const operation = item[method];
        const security: Json[] = operation.security ?? doc.security ?? [];
        return {
          method: method.toUpperCase(),
          path,
          operation,
          keyed: security.length > 0,
          adminOnly:
            security.length > 0 &&
            security.every((scheme) => Object.keys(scheme).every((name) => name === "adminKey")),
        };
      }),
  );
}

/** The running Herald's document, as anyone may read it. */
export async function openApiDocument(herald: TestHerald): Promise<Json> {
  const answer = await herald.api("GET", "/openapi.json", undefined, { key: null });
  if (answer.status !== 200) throw new Error(`/openapi.json: ${answer.status}`);
  return answer.body;
}

/**
 * Bodies the admin would get a 2xx for, by `METHOD path`, for operations whose body has required
 * fields: a test that changes one thing about a request (who asks, one field) then knows that is
 * what a refusal is about. Mode-bearing ones are in `mode`.
 */
export function acceptedBodies(mode: "live" | "test"): Record<string, Json> {
  const event = { type: "accepted.body", mode, data: {} };
  return {
    "POST /v1/merchants": { name: "Accepted" },
    "PATCH /v1/merchants/{mid}": { name: "Renamed" },
    "POST /v1/merchants/{mid}/api-keys": { mode },
    "POST /v1/merchants/{mid}/endpoints": { url: "https://127.0.0.1:9/accepted", mode },
    "PATCH /v1/merchants/{mid}/endpoints/{eid}": { description: "renamed" },
    "POST /v1/merchants/{mid}/events": event,
    "POST /v1/merchants/{mid}/events/batch": { events: [event] },
    "POST /v1/merchants/{mid}/endpoints/{eid}/recover": { since: "2020-01-01T00:00:00Z" },
    "POST /v1/profiles": { name: `accepted-${mode}` },
    "PATCH /v1/profiles/{name}": { description: "renamed" },
    "POST /v1/event-types": { name: `accepted.${mode}` },
    "PATCH /v1/event-types/{name}": { deprecated: true },
    "POST /v1/operator-endpoints": { url: "https://127.0.0.1:9/operator", mode },
    "PATCH /v1/operator-endpoints/{oeid}": { description: "renamed" },
  };
}
