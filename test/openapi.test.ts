import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";
import { documentedOperations, httpMethods, type Json, openApiDocument } from "./support/openapi.ts";

/** Every `$ref` anywhere in `value`, with where it was found. */
function refsIn(value: Json, at = "#"): { ref: string; at: string }[] {
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === "$ref" && typeof child === "string"
      ? [{ ref: child, at }]
      : refsIn(child, `${at}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`),
  );
}

function resolvePointer(doc: Json, ref: string): Json {
  if (!ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((node, part) => (node === undefined ? undefined : node[part]), doc);
}

describe("/openapi.json is a valid OpenAPI 3.1 document of the whole API", () => {
  const scene = useHerald();
  let doc: Json;
  let ajv: Ajv2020;

  beforeAll(async () => {
    doc = await openApiDocument(scene.herald);
    // OpenAPI 3.1 schemas are JSON Schema 2020-12; the document is the root their refs point into.
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, "openapi.json");
  });

  it("declares OpenAPI 3.1 with an info block and bearer security schemes", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: "Herald", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const schemes = Object.values(doc.components.securitySchemes as Record<string, Json>);
    expect(schemes.length).toBeGreaterThan(0);
    for (const scheme of schemes) expect(scheme).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("documents every operation with a 2xx answer, a description per answer, and its path parameters", () => {
    const operations = documentedOperations(doc);
    expect(operations.length).toBeGreaterThanOrEqual(20);
    for (const { method, path, operation } of operations) {
      const where = `${method} ${path}`;
      const statuses = Object.keys(operation.responses ?? {});
      expect(
        statuses.some((s) => /^2\d\d$/.test(s)),
        `${where} has a 2xx answer`,
      ).toBe(true);
      for (const status of statuses)
        expect(typeof operation.responses[status].description, `${where} ${status}`).toBe("string");
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (operation.parameters ?? [])
        .filter((p: Json) => p.in === "path")
        .map((p: Json) => {
          expect(p.required, `${where} path parameter ${p.name}`).toBe(true);
          return p.name;
        })
        .sort();
      expect(declared, where).toEqual(templated);
    }
  });

  it("gives every keyed operation a security requirement naming a declared scheme, and problem+json errors", () => {
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const { method, path, operation } of documentedOperations(doc)) {
      const where = `${method} ${path}`;
      const security = operation.security ?? doc.security;
      expect(Array.isArray(security), `${where} states its security`).toBe(true);
      for (const requirement of security)
        for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
      if (path.startsWith("/v1/merchants"))
        expect(security.length, `${where} needs a key`).toBeGreaterThan(0);
      if (security.length === 0) continue;
      for (const status of ["400", "401", ...(path.includes("{") ? ["404"] : [])]) {
        expect(
          operation.responses[status]?.content?.["application/problem+json"]?.schema,
          `${where} ${status}`,
        ).toEqual({ $ref: "#/components/schemas/Problem" });
      }
    }
  });

  it("resolves every $ref to something in the document", () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const { ref, at } of refs) expect(resolvePointer(doc, ref), `${ref} at ${at}`).toBeDefined();
  });

  it("has only valid JSON Schema 2020-12 schemas in bodies, parameters and answers", () => {
    let compiled = 0;
    const schemaPointers = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) => {
      const base = `#/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      return httpMethods
        .filter((m) => item[m])
        .flatMap((m) => {
          const operation = item[m];
          const media = (content: Json, at: string) =>
            Object.keys(content ?? {}).map((type) => `${at}/content/${type.replace("/", "~1")}/schema`);
          return [
            ...(operation.parameters ?? []).map(
              (_: Json, i: number) => `${base}/${m}/parameters/${i}/schema`,
            ),
            ...media(operation.requestBody?.content, `${base}/${m}/requestBody`),
            ...Object.keys(operation.responses).flatMap((status) =>
              media(operation.responses[status].content, `${base}/${m}/responses/${status}`),
            ),
          ];
        });
    });
    for (const pointer of schemaPointers) {
      expect(() => ajv.compile({ $ref: `openapi.json${pointer}` }), pointer).not.toThrow();
      compiled++;
    }
    expect(compiled).toBeGreaterThan(50);
  });

  it("describes what the API really answers: a 401 is a Problem, and each GET answer fits its schema", async () => {
    const { herald } = scene;
    const problem = ajv.compile({ $ref: "openapi.json#/components/schemas/Problem" });
    const unauthorized = await herald.api("GET", "/v1/merchants", undefined, { key: null });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(problem(unauthorized.body), JSON.stringify(problem.errors)).toBe(true);

    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/hooks" });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "order.paid",
      mode: "test",
      data: { n: 1 },
    });
    const deliveries = await herald.api("GET", `/v1/merchants/${merchant}/deliveries`);
    const ids: Record<string, string> = {
      mid: merchant,
      eid: endpoint.id,
      evid: emitted.body.id,
      did: deliveries.body.data[0].id,
    };
    const gets = documentedOperations(doc).filter(
      ({ method, path }) =>
        method === "GET" &&
        path.startsWith("/v1/merchants") &&
        [...path.matchAll(/\{(\w+)\}/g)].every((m) => ids[m[1]!]),
    );
    expect(gets.length).toBeGreaterThanOrEqual(8);
    for (const { path } of gets) {
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
      const answer = await herald.api("GET", url);
      expect(answer.status, url).toBe(200);
      const pointer = `#/paths/${path.replaceAll("/", "~1")}/get/responses/200/content/application~1json/schema`;
      const validate = ajv.compile({ $ref: `openapi.json${pointer}` });
      expect(validate(answer.body), `${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("renders the reference at /docs as HTML", async () => {
    const { herald } = scene;
    const response = await fetch(`${herald.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain("swagger-ui");
  });
});
