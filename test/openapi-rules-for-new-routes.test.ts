import { describe, expect, it } from "vitest";
import { finishDocument, operationIdFor } from "../apps/api/src/openapi.ts";

describe("a route added later gets its OpenAPI treatment from the rules, with nothing to remember", () => {
  it("derives a readable operationId from method and path", () => {
    expect(operationIdFor("post", "/v1/merchants/{mid}/portal-sessions")).toBe("createPortalSession");
    expect(operationIdFor("get", "/v1/merchants/{mid}/profiles")).toBe("listProfiles");
    expect(operationIdFor("get", "/v1/merchants/{mid}/profiles/{pid}")).toBe("getProfile");
    expect(operationIdFor("patch", "/v1/merchants/{mid}/profiles/{pid}")).toBe("updateProfile");
    expect(operationIdFor("delete", "/v1/merchants/{mid}/profiles/{pid}")).toBe("deleteProfile");
    expect(operationIdFor("post", "/v1/merchants/{mid}/profiles/{pid}/activate")).toBe("activateProfile");
    expect(operationIdFor("get", "/v1/merchants/{mid}/endpoints/{eid}/deliveries")).toBe(
      "listEndpointDeliveries",
    );
    expect(operationIdFor("get", "/v1/merchants")).toBe("listMerchants");
  });

  it("keeps the error statuses a route declares itself, and adds 409 only where the route says it can conflict", () => {
    const problem = {
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
    const standard = Object.fromEntries(
      ["400", "401", "403", "404", "409", "413", "415", "503"].map((s) => [
        s,
        { description: "x", ...problem },
      ]),
    );
    const doc = finishDocument({
      openapi: "3.1.0",
      info: { title: "t", version: "1" },
      components: { schemas: {} },
      paths: {
        "/v1/merchants/{mid}/profiles": {
          get: {
            security: [{ adminKey: [] }],
            responses: {
              "200": { description: "ok" },
              "429": { description: "slow down", ...problem },
              ...standard,
            },
          },
          post: {
            "x-herald-conflicts": true,
            security: [{ adminKey: [] }],
            requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } },
            responses: { "201": { description: "made" }, ...standard },
          },
        },
      },
    });
    const { get, post } = doc.paths["/v1/merchants/{mid}/profiles"];
    expect(Object.keys(get.responses).sort()).toEqual(["200", "400", "401", "403", "404", "429", "503"]);
    expect(Object.keys(post.responses).sort()).toEqual([
      "201",
      "400",
      "401",
      "403",
      "404",
      "409",
      "413",
      "415",
      "503",
    ]);
    expect(post["x-herald-conflicts"]).toBeUndefined();
    expect(post.operationId).toBe("createProfile");
  });
});
