import { readFileSync } from "node:fs";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHerald, type TestHerald } from "./support/herald.ts";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked as plain JSON
type Json = any;

const methods = ["get", "put", "post", "delete", "patch"];
const operationsOf = (doc: Json) =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    methods.filter((m) => item[m]).map((method) => ({ method, path, operation: item[method] as Json })),
  );

describe("/openapi.json is what a client generator needs", () => {
  let herald: TestHerald;
  let doc: Json;

  beforeAll(async () => {
    herald = await startTestHerald();
    doc = (await herald.api("GET", "/openapi.json", undefined, { key: null })).body;
  });
  afterAll(() => herald.stop());

  it("passes Redocly's recommended lint rules with no error and no warning", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({
      source: JSON.stringify(doc),
      absoluteRef: "openapi.json",
      config,
    });
    const found = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(found).toEqual([]);
  });

  it("gives real examples (an event, an endpoint, a delivery with attempts) that fit their schemas", () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema(doc, "openapi.json");
    for (const name of ["Event", "Endpoint", "DeliveryWithAttempts"]) {
      const [example] = doc.components.schemas[name].examples;
      const validate = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
      expect(validate(example), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(
      doc.paths["/v1/merchants/{mid}/events"].post.requestBody.content["application/json"].example,
    ).toMatchObject({
      type: "payment.succeeded",
    });
  });

  it("names every operation with a unique operationId", () => {
    const ids = operationsOf(doc).map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining(["emitEvent", "listDeliveries", "retryDelivery", "createEndpoint"]),
    );
  });

  it("offers every resource and list page as a named component, referenced by the routes", () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of [
      "Merchant",
      "ApiKey",
      "Endpoint",
      "Event",
      "Delivery",
      "Attempt",
      "Operation",
      "RetryPolicy",
      "Problem",
      "DeliveryList",
      "EndpointList",
      "EventList",
    ])
      expect(names).toContain(name);
    const answer = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content["application/json"].schema;
    expect(answer("/v1/merchants/{mid}/endpoints/{eid}", "get", "200")).toEqual({
      $ref: "#/components/schemas/Endpoint",
    });
    expect(answer("/v1/merchants/{mid}/deliveries", "get", "200")).toEqual({
      $ref: "#/components/schemas/DeliveryList",
    });
    expect(doc.components.schemas.Endpoint.properties.retry_policy).toEqual({
      $ref: "#/components/schemas/RetryPolicy",
    });
    expect(answer("/v1/retry-policies", "get", "200")).toBeDefined();
  });

  it("lists for each route only the errors it can answer", () => {
    for (const { method, path, operation } of operationsOf(doc)) {
      const statuses = Object.keys(operation.responses);
      if (!operation.requestBody) {
        expect(statuses, `${method} ${path}`).not.toContain("413");
        expect(statuses, `${method} ${path}`).not.toContain("415");
      }
      if (method === "get") expect(statuses, `${method} ${path}`).not.toContain("409");
      if ((operation.security ?? []).length === 0) expect(statuses, path).not.toContain("401");
    }
    expect(Object.keys(doc.paths["/v1/merchants/{mid}/events"].post.responses)).toContain("409");
  });

  it("makes the bodies that may be left out optional, and the server agrees", async () => {
    for (const [path, name] of [
      ["/v1/merchants/{mid}/endpoints/{eid}/rotate-secret", "rotate"],
      ["/v1/merchants/{mid}/endpoints/{eid}/test", "test"],
    ])
      expect(doc.paths[path!].post.requestBody.required, name).toBe(false);
    const merchant = (await herald.api("POST", "/v1/merchants", { name: "Optional bodies" })).body.id;
    const endpoint = (
      await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
        url: "http://127.0.0.1:9/hooks",
        mode: "test",
      })
    ).body.id;
    const rotated = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint}/rotate-secret`);
    expect(rotated.status).toBe(200);
  });

  it("documents the response headers, servers, license and a branded /docs", async () => {
    const emit = doc.paths["/v1/merchants/{mid}/events"].post;
    expect(Object.keys(emit.responses["202"].headers)).toEqual(["x-request-id", "idempotent-replayed"]);
    expect(Object.keys(doc.paths["/v1/merchants"].get.responses["200"].headers)).toEqual(["x-request-id"]);
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
    expect(doc.info.license).toMatchObject({ identifier: "Apache-2.0" });
    expect(doc.components.schemas.Event.examples[0].type).toBe("payment.succeeded");
    const page = await (await fetch(`${herald.url}/docs/`)).text();
    expect(page).toContain("<title>Herald API reference</title>");
    expect(page).not.toMatch(/<title>Swagger UI/);
    const logo = readFileSync(new URL("../apps/api/assets/herald.svg", import.meta.url)).toString("base64");
    const script = await (await fetch(`${herald.url}/docs/static/swagger-initializer.js`)).text();
    expect(script).toContain(`data:image/svg+xml;base64,${logo}`);
    expect(page).toContain("favicon.svg");
  });
});
