import { beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked as plain JSON
type Json = any;

/** Timestamps RFC 3339 allows (or nearly) that name no instant Herald can store or compare. */
const unusable = [
  "2016-12-31T23:59:60Z",
  "0000-01-01T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "9999-12-31T23:59:59-01:00",
  "2026-02-30T00:00:00Z",
  "2026-01-01T24:00:00Z",
];

const isTime = (schema: Json) =>
  schema?.format === "date-time" || (schema?.anyOf ?? []).some((s: Json) => s.format === "date-time");

describe("every route that takes a time", () => {
  const scene = useHerald({ dispatcher: false });
  const ids: Record<string, string> = {};
  /** Each time field of each keyed route, from the API's own OpenAPI document. */
  let fields: { method: string; path: string; name: string; in: "query" | "body" }[];

  beforeAll(async () => {
    const { herald } = scene;
    ids.mid = await createMerchant(herald);
    ids.eid = (await createEndpoint(herald, ids.mid, { url: "http://127.0.0.1:9/times" })).id;
    const doc = (await herald.api("GET", "/openapi.json", undefined, { key: null })).body;
    fields = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Json>).flatMap(([method, operation]) => {
        const body = operation.requestBody?.content?.["application/json"]?.schema;
        const object = body?.anyOf?.find((s: Json) => s.type === "object") ?? body;
        return [
          ...(operation.parameters ?? [])
            .filter((p: Json) => p.in === "query" && isTime(p.schema))
            .map((p: Json) => ({ method: method.toUpperCase(), path, name: p.name, in: "query" as const })),
          ...Object.entries((object?.properties ?? {}) as Record<string, Json>)
            .filter(([, schema]) => isTime(schema))
            .map(([name]) => ({ method: method.toUpperCase(), path, name, in: "body" as const })),
        ];
      }),
    );
  });

  it("is found: stats, deliveries, events and recovery", () => {
    const routes = new Set(fields.map((f) => f.path));
    expect(routes).toEqual(
      new Set([
        "/v1/merchants/{mid}/stats",
        "/v1/merchants/{mid}/endpoints/{eid}/stats",
        "/v1/merchants/{mid}/deliveries",
        "/v1/merchants/{mid}/events",
        "/v1/merchants/{mid}/endpoints/{eid}/recover",
      ]),
    );
  });

  it("answers 400 naming the field for a timestamp it cannot use, never 5xx", async () => {
    const { herald } = scene;
    const wrong: string[] = [];
    for (const field of fields) {
      const url = field.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
      for (const value of unusable) {
        const answer =
          field.in === "query"
            ? await herald.api(field.method, `${url}?${field.name}=${encodeURIComponent(value)}`)
            : await herald.api(field.method, url, { since: "2026-01-01T00:00:00Z", [field.name]: value });
        const ok =
          answer.status === 400 &&
          answer.headers.get("content-type")?.startsWith("application/problem+json") &&
          answer.body.field === field.name;
        if (!ok)
          wrong.push(
            `${field.method} ${field.path} ${field.name}=${value}: ${answer.status} ${JSON.stringify(answer.body)}`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });

  it("still takes the first and last instants it can use", async () => {
    const { herald } = scene;
    const stats = await herald.api(
      "GET",
      `/v1/merchants/${ids.mid}/stats?since=1970-01-01T00:00:00Z&until=1970-01-02T00:00:00%2B00:00`,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.since).toBe("1970-01-01T00:00:00.000Z");
    const events = await herald.api(
      "GET",
      `/v1/merchants/${ids.mid}/events?until=${encodeURIComponent("9999-12-31T23:59:59.999Z")}`,
    );
    expect(events.status).toBe(200);
  });
});
