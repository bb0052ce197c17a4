import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";
import { acceptedBodies, documentedOperations, type Json, openApiDocument } from "./support/openapi.ts";

interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: string; schema: Json }[];
  /** The object schema of the JSON body, when there is one. */
  body: Json | undefined;
  /** The whole body schema, which may also admit null (an absent body). */
  bodySchema: Json | undefined;
}

/** The keyed `/v1/` operations, with what bad input is made from: parameters and body schema. */
function operationsOf(doc: Json): Operation[] {
  return documentedOperations(doc)
    .filter(({ path, keyed }) => path.startsWith("/v1/") && keyed)
    .map(({ method, path, operation }) => {
      const schema = operation.requestBody?.content?.["application/json"]?.schema;
      return {
        method,
        path,
        parameters: operation.parameters ?? [],
        body: schema?.anyOf?.find((s: Json) => s.type === "object") ?? schema,
        bodySchema: schema,
      };
    });
}

/** Each mutation below is then the only thing wrong with a request. */
const validBodies = acceptedBodies("test");

/** The JSON types a schema admits; empty when it does not say. */
function typesOf(schema: Json): string[] {
  if (!schema) return [];
  if (Array.isArray(schema.anyOf)) return schema.anyOf.flatMap(typesOf);
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type === "integer" ? "number" : schema.type];
  return [];
}

function jsonType(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

function nested(depth: number): Json {
  let value: Json = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/**
 * Values to put in one body field. `refused` says whether the field's schema must turn it away;
 * the others (long, odd or non-Latin text) may be fine, but never a 5xx.
 */
const fieldValues: { label: string; value: unknown; refused: (schema: Json) => boolean }[] = [
  ...[12345, 1.5, "text", true, [], {}, null].map((value) => ({
    label: `type ${jsonType(value)}`,
    value,
    refused: (schema: Json) => {
      const types = typesOf(schema);
      if (types.length === 0) return false;
      if (typeof value === "number" && !Number.isInteger(value))
        return !types.includes("number") || schema.type === "integer";
      return !types.includes(jsonType(value));
    },
  })),
  { label: "empty string", value: "", refused: () => false },
  {
    label: "100 KB string",
    value: "x".repeat(100_000),
    refused: (s) => !typesOf(s).includes("string") || (s.maxLength ?? Infinity) < 100_000,
  },
  {
    label: "10 000-element array",
    value: Array(10_000).fill("a"),
    refused: (s) =>
      typesOf(s).length > 0 && (!typesOf(s).includes("array") || (s.maxItems ?? Infinity) < 10_000),
  },
  { label: "NUL", value: "a\u0000b", refused: (s) => typesOf(s).length > 0 },
  { label: "lone surrogate", value: "a\ud800b", refused: (s) => typesOf(s).length > 0 },
  { label: "unicode", value: "Zoë 🚀 עברית ＜script＞", refused: () => false },
  { label: "not an id", value: "mch_nope", refused: () => false },
  {
    label: "deep object",
    value: nested(200),
    refused: (s) => typesOf(s).length > 0 && !typesOf(s).includes("object"),
  },
];

const pathValues = [
  "x",
  "%00",
  "%ED%A0%80",
  "mch_00000000000000000000000000",
  "%C3%A9%F0%9F%9A%80",
  "a".repeat(90),
  "..%2F..%2Fv1",
];
const queryValues = ["abc", "-1", "1e9", "1.5", "", "%00", "%ED%A0%80", "x".repeat(10_000), "Zo%C3%AB", "[]"];
const malformedJson = ["{", '{"a":', "[1,", "nul", '"unterminated', '{"a":1}}', "{'a':1}", "\u0000"];
const wrongShapes = [[], "a string", 123, null, true, [{}]];

describe("bad input on every route: a 4xx problem, never a 500, and the server lives on", () => {
  const scene = useHerald();
  let operations: Operation[];
  const ids: Record<string, string> = {};
  /** Every answer that broke the rule, so one run lists them all. */
  const broken: string[] = [];

  beforeAll(async () => {
    const { herald, receiver } = scene;
    operations = operationsOf(await openApiDocument(herald));
    ids.mid = await createMerchant(herald);
    ids.name = (await herald.api("POST", "/v1/profiles", { name: "bad-input" })).body.name;
    ids["event-types.name"] = (await herald.api("POST", "/v1/event-types", { name: "bad.input" })).body.name;
    ids.kid = (await herald.api("POST", `/v1/merchants/${ids.mid}/api-keys`, { mode: "test" })).body.id;
    ids.eid = (await createEndpoint(herald, ids.mid, { url: `${receiver.url}/bad-input` })).id;
    ids.oeid = (
      await herald.api("POST", "/v1/operator-endpoints", { url: `${receiver.url}/operator`, mode: "test" })
    ).body.id;
    ids.evid = (
      await herald.api("POST", `/v1/merchants/${ids.mid}/events`, {
        type: "bad.input",
        mode: "test",
        data: {},
      })
    ).body.id;
    ids.did = await eventually(async () => {
      const list = await herald.api("GET", `/v1/merchants/${ids.mid}/deliveries?event_id=${ids.evid}`);
      return list.body.data[0]?.id;
    });
    ids.opid = (
      await herald.api("POST", `/v1/merchants/${ids.mid}/endpoints/${ids.eid}/recover`, {
        since: "2020-01-01T00:00:00Z",
      })
    ).body.id;
  });
  beforeEach(() => {
    broken.length = 0;
  });

  // `{name}` names a profile under /v1/profiles and an event type under /v1/event-types.
  const urlOf = (operation: Operation, replace: Record<string, string> = {}) =>
    operation.path.replace(
      /\{(\w+)\}/g,
      (_, name: string) =>
        replace[name] ?? ids[`${operation.path.split("/")[2]}.${name}`] ?? ids[name] ?? `{${name}}`,
    );

  /** Sends raw bytes, so malformed JSON and odd content types reach the server as they are. */
  async function send(method: string, url: string, body?: string, headers: Record<string, string> = {}) {
    const { herald } = scene;
    const response = await fetch(`${herald.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${herald.adminKey}`, ...headers },
      body,
    });
    const text = await response.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, type: response.headers.get("content-type") ?? "", body: parsed };
  }

  /** Records what is wrong with one answer: a 5xx, a 4xx that is not a problem, a wrong field. */
  function judge(
    where: string,
    answer: Awaited<ReturnType<typeof send>>,
    expect: { refused: boolean; field?: string; status?: number },
  ) {
    const { status, body } = answer;
    const say = (what: string) =>
      broken.push(`${where}: ${what} (${status} ${JSON.stringify(body).slice(0, 200)})`);
    if (status >= 500) return say("server error");
    if (expect.refused && (status < 400 || status >= 500)) return say("accepted");
    if (expect.status !== undefined && status !== expect.status) return say(`expected ${expect.status}`);
    if (status < 400) return;
    if (!answer.type.startsWith("application/problem+json")) return say("not problem+json");
    if (body?.status !== status || typeof body.type !== "string" || typeof body.detail !== "string")
      return say("not a problem document");
    if (expect.field && body.type.endsWith(":validation") && status === 400) {
      if (body.field !== expect.field && !String(body.field).startsWith(`${expect.field}.`))
        say(`field "${body.field}", expected "${expect.field}"`);
    }
  }

  it("lists every keyed route it will try", () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    expect(operations.filter((o) => o.body).length).toBeGreaterThanOrEqual(8);
  });

  it("refuses bad ids in the path with 4xx problems", async () => {
    for (const operation of operations) {
      for (const name of [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)) {
        for (const value of pathValues) {
          const url = urlOf(operation, { [name]: value });
          const body = operation.body
            ? JSON.stringify(validBodies[`${operation.method} ${operation.path}`] ?? {})
            : undefined;
          const answer = await send(
            operation.method,
            url,
            body,
            body ? { "content-type": "application/json" } : {},
          );
          judge(`${operation.method} ${url.slice(0, 120)}`, answer, { refused: true });
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("refuses bad query values and unknown query fields", async () => {
    for (const operation of operations.filter((o) => o.method === "GET")) {
      const url = urlOf(operation);
      judge(`${url}?zzz=1`, await send("GET", `${url}?zzz=1`), { refused: true, status: 400, field: "zzz" });
      for (const parameter of operation.parameters.filter((p) => p.in === "query")) {
        for (const value of queryValues) {
          const answer = await send("GET", `${url}?${parameter.name}=${value}`);
          judge(`GET ${url}?${parameter.name}=${value.slice(0, 20)}`, answer, {
            refused: false,
            field: parameter.name,
          });
        }
        const twice = `${url}?${parameter.name}=1&${parameter.name}=2`;
        judge(`GET ${twice}`, await send("GET", twice), { refused: false, field: parameter.name });
      }
    }
    expect(broken).toEqual([]);
  });

  it("refuses malformed JSON, wrong shapes, empty bodies and wrong content types", async () => {
    for (const operation of operations.filter((o) => o.body)) {
      const where = `${operation.method} ${operation.path}`;
      const url = urlOf(operation);
      const json = { "content-type": "application/json" };
      for (const text of malformedJson)
        judge(`${where} ${JSON.stringify(text)}`, await send(operation.method, url, text, json), {
          refused: true,
          status: 400,
        });
      for (const shape of wrongShapes) {
        const refused = !typesOf(operation.bodySchema).includes(jsonType(shape));
        const answer = await send(operation.method, url, JSON.stringify(shape), json);
        judge(`${where} ${JSON.stringify(shape)}`, answer, { refused, ...(refused && { status: 400 }) });
      }
      judge(`${where} empty JSON body`, await send(operation.method, url, "", json), { refused: false });
      const valid = JSON.stringify(validBodies[where] ?? {});
      for (const contentType of [
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "text/plain",
      ])
        judge(
          `${where} as ${contentType}`,
          await send(operation.method, url, valid, { "content-type": contentType }),
          { refused: true },
        );
      judge(
        `${where} unknown field`,
        await send(operation.method, url, JSON.stringify({ ...(validBodies[where] ?? {}), zzz: 1 }), json),
        {
          refused: true,
          status: 400,
          field: "zzz",
        },
      );
    }
    expect(broken).toEqual([]);
  });

  it("refuses wrong types, oversized and unstorable values in every body field, naming the field", async () => {
    for (const operation of operations.filter((o) => o.body)) {
      const where = `${operation.method} ${operation.path}`;
      const base = validBodies[where] ?? {};
      for (const [name, schema] of Object.entries(
        (operation.body.properties ?? {}) as Record<string, Json>,
      )) {
        for (const { label, value, refused } of fieldValues) {
          const answer = await send(
            operation.method,
            urlOf(operation),
            JSON.stringify({ ...base, [name]: value }),
            {
              "content-type": "application/json",
            },
          );
          judge(`${where} ${name}: ${label}`, answer, { refused: refused(schema), field: name });
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("answers 413 to a body over the size limit", async () => {
    const oversized = JSON.stringify({ pad: "x".repeat(300 * 1024) });
    for (const operation of operations.filter((o) => o.body)) {
      const answer = await send(operation.method, urlOf(operation), oversized, {
        "content-type": "application/json",
      });
      // The batch route takes bigger bodies; there the unknown field is what is refused.
      judge(`${operation.method} ${operation.path} 300 KiB`, answer, {
        refused: true,
        status: operation.path.endsWith("/batch") ? 400 : 413,
      });
    }
    expect(broken).toEqual([]);
  });

  it("still answers /healthz and real requests afterwards", async () => {
    const { herald } = scene;
    expect((await herald.api("GET", "/healthz", undefined, { key: null })).status).toBe(200);
    expect((await herald.api("GET", `/v1/merchants/${ids.mid}/endpoints/${ids.eid}`)).status).toBe(200);
  });
});
