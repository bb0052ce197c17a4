import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseCidrs } from "@herald/core";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BlockedTargetError, createGuardedAgent, isBlockedTarget } from "../src/guarded-agent.ts";

// Only loopback and 0.0.0.0 forms are ever dialled here: other ranges belong in the pure unit tests.

let server: Server;
let port: number;
const seen = { connections: 0, requests: [] as string[] };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.requests.push(req.url ?? "");
    req.resume();
    req.on("end", () => {
      if (req.url === "/redirect") res.writeHead(302, { location: "/elsewhere" }).end();
      else res.end("ok");
    });
  });
  server.on("connection", () => {
    seen.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.connections = 0;
  seen.requests = [];
});

function post(url: string, allowed: string) {
  const dispatcher = createGuardedAgent({ allowed: parseCidrs(allowed) });
  return request(url, { dispatcher, method: "POST", body: "x" }).finally(() => dispatcher.close());
}

describe("with no exceptions", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["localhost", "loopback"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["2130706433", "loopback"],
    ["0x7f.1", "loopback"],
    ["0.0.0.0", "unspecified"],
  ])("refuses http://%s before connecting (%s)", async (host, reason) => {
    const error = await post(`http://${host}:${port}/`, "").then(
      () => null,
      (rejection: unknown) => rejection,
    );

    expect(isBlockedTarget(error)).toBe(true);
    expect(error).toBeInstanceOf(BlockedTargetError);
    expect(error).toMatchObject({ code: "BLOCKED_TARGET", reason });
    expect(seen).toEqual({ connections: 0, requests: [] });
  });
});

describe("with loopback allowed", () => {
  const loopback = "127.0.0.1/32,::1/128";

  it.each(["127.0.0.1", "localhost"])("delivers to http://%s", async (host) => {
    const response = await post(`http://${host}:${port}/hook`, loopback);

    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe("ok");
    expect(seen.requests).toEqual(["/hook"]);
  });

  it("still refuses loopback addresses outside the exception", async () => {
    await expect(post(`http://127.0.0.2:${port}/`, loopback)).rejects.toSatisfy(isBlockedTarget);
    expect(seen.connections).toBe(0);
  });

  it("does not follow redirects", async () => {
    const response = await post(`http://127.0.0.1:${port}/redirect`, loopback);

    expect(response.statusCode).toBe(302);
    await response.body.dump();
    expect(seen.requests).toEqual(["/redirect"]);
  });
});

describe("isBlockedTarget", () => {
  it("finds the refusal anywhere in the cause chain", () => {
    const refusal = new BlockedTargetError("127.0.0.1", "loopback", "localhost");
    expect(
      isBlockedTarget(new Error("fetch failed", { cause: new Error("connect", { cause: refusal }) })),
    ).toBe(true);
    expect(isBlockedTarget(new Error("ECONNREFUSED"))).toBe(false);
    expect(isBlockedTarget("BLOCKED_TARGET")).toBe(false);
  });

  it("survives a cause cycle", () => {
    const error = new Error("loop");
    error.cause = error;
    expect(isBlockedTarget(error)).toBe(false);
  });
});
