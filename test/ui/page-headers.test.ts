import { request } from "node:http";
import { loadConfig } from "@herald/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHerald, type TestHerald } from "../support/herald.ts";

/** A GET with a chosen Host header, which fetch() does not allow. */
function getAs(url: string, host: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host } }, (response) => {
      response.resume();
      resolve({ status: response.statusCode!, headers: response.headers });
    })
      .on("error", reject)
      .end();
  });
}

describe("dashboard pages' security headers and cookies", () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_PORTAL_FRAME_ANCESTORS: "https://dash.example.com 'self'" });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it("sends a strict CSP with the configured frame-ancestors, and no-store", async () => {
    const answer = await fetch(`${herald.url}/ui/sign-in`);
    const csp = answer.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors https://dash.example.com 'self'");
    expect(answer.headers.get("x-frame-options")).toBeNull();
    expect(answer.headers.get("cache-control")).toBe("no-store");
    // The REST API is left as it was: no page headers on it.
    const api = await fetch(`${herald.url}/healthz`);
    expect(api.headers.get("content-security-policy")).toBeNull();
  });

  it("marks cookies HttpOnly and SameSite, and Secure unless the browser is on loopback", async () => {
    const local = await getAs(`${herald.url}/ui/sign-in`, "127.0.0.1");
    const localCookie = String(local.headers["set-cookie"]);
    expect(localCookie).toMatch(/HttpOnly/);
    expect(localCookie).toMatch(/SameSite=Lax/);
    expect(localCookie).not.toMatch(/Secure/);
    // This Herald lets another site frame the portal: there, cookies must reach a cross-site frame.
    const remote = String(
      (await getAs(`${herald.url}/ui/sign-in`, "herald.example.com")).headers["set-cookie"],
    );
    expect(remote).toMatch(/; Secure/);
    expect(remote).toMatch(/SameSite=None/);
    expect(remote).toMatch(/Partitioned/);
    expect(remote).toMatch(/HttpOnly/);
  });

  it("refuses a frame-ancestors value that is not an origin", () => {
    expect(() =>
      loadConfig({ HERALD_PORTAL_FRAME_ANCESTORS: "https://ok.example.com *; script-src" }),
    ).toThrow(/HERALD_PORTAL_FRAME_ANCESTORS/);
  });
});
