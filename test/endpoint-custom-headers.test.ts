import { beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";

/** Custom headers that used to be stored and then failed every attempt, or were silently changed. */
const refused: Record<string, Record<string, string>> = {
  "Keep-Alive": { "Keep-Alive": "timeout=5" },
  Expect: { Expect: "100-continue" },
  Trailer: { Trailer: "X-Checksum" },
  "Proxy-Connection": { "Proxy-Connection": "keep-alive" },
  Connection: { Connection: "close" },
  "Transfer-Encoding": { "Transfer-Encoding": "chunked" },
  TE: { TE: "trailers" },
  Upgrade: { Upgrade: "h2c" },
  Host: { Host: "example.com" },
  "Content-Length": { "Content-Length": "1" },
  "webhook-id": { "webhook-id": "forged" },
  "the signature header": { "X-Signature": "forged" },
  "a value with trailing space": { "X-Tenant": "acme " },
  "two names differing in case": { "X-Tenant": "a", "x-tenant": "b" },
};

describe("custom endpoint headers", () => {
  const scene = useHerald();
  let merchant: string;
  beforeAll(async () => {
    merchant = await createMerchant(scene.herald);
  });

  it.each(Object.entries(refused))(
    "%s is refused at registration and on PATCH, naming headers",
    async (_, headers) => {
      const { herald, receiver } = scene;
      const created = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
        url: receiver.url,
        mode: "test",
        headers,
      });
      expect(created.status).toBe(400);
      expect(created.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(created.body.field).toBe("headers");

      const endpoint = await createEndpoint(herald, merchant, { url: receiver.url });
      const patched = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, {
        headers,
      });
      expect(patched.status).toBe(400);
      expect(patched.body.field).toBe("headers");
      const stored = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`);
      expect(stored.body.headers).toEqual({});
    },
  );

  it("the headers it takes arrive at the receiver exactly as given", async () => {
    const { herald, receiver } = scene;
    const headers = { Authorization: "Bearer receiver-token", "X-Tenant": "acme", "X-Empty": "" };
    const alone = await createMerchant(herald, "Alone");
    const endpoint = await createEndpoint(herald, alone, { url: `${receiver.url}/custom`, headers });
    expect(endpoint.headers).toEqual(headers);
    await herald.api("POST", `/v1/merchants/${alone}/events`, { type: "a.b", mode: "test", data: {} });
    const request = await eventually(async () => receiver.received.find((r) => r.path === "/custom"));
    expect(request.headers.authorization).toBe("Bearer receiver-token");
    expect(request.headers["x-tenant"]).toBe("acme");
    expect(request.headers["x-empty"]).toBe("");
  });
});
