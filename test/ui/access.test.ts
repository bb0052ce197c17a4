import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "../support/herald.ts";
import { Receiver } from "../support/receiver.ts";
import { csrfOf, launchBrowser, openPage, screenshot, signIn } from "./browser.ts";

describe("who may open and act on dashboard pages", () => {
  let herald: TestHerald;
  let browser: Browser;
  let receiver: Receiver;
  let shopA: string;
  let shopB: string;
  let endpointA: string;
  let endpointB: string;

  beforeAll(async () => {
    [herald, browser, receiver] = await Promise.all([startTestHerald(), launchBrowser(), Receiver.start()]);
    shopA = await createMerchant(herald, "Shop A");
    shopB = await createMerchant(herald, "Shop B");
    endpointA = (await createEndpoint(herald, shopA, { url: receiver.url })).id;
    endpointB = (await createEndpoint(herald, shopB, { url: receiver.url })).id;
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([herald?.stop(), receiver?.close()]);
  });

  async function portalLink(merchantId: string, body: Record<string, unknown> = {}) {
    const answer = await herald.api("POST", `/v1/merchants/${merchantId}/portal-sessions`, body);
    expect(answer.status).toBe(201);
    return answer.body as { url: string; expires_at: string; mode: string | null; read_only: boolean };
  }

  /** Follows a portal link as a browser does, to the portal's first page. */
  async function follow(page: Page, url: string) {
    await page.goto(url);
    await page.waitForURL(/\/endpoints$/);
  }

  /** Follows a spent or stale link: the page says why, and no session opens. */
  async function refused(page: Page, url: string) {
    await page.goto(url);
    await expect(page.locator(".error").textContent()).resolves.toContain("already used or has expired");
    expect(page.url()).toBe(`${herald.url}/ui/portal`);
  }

  /** A form post from the page's own session, as a forger holding that session would send it. */
  function post(page: Page, path: string, form: Record<string, string>) {
    return page.request.post(`${herald.url}${path}`, { form, maxRedirects: 0 });
  }

  async function endpointEnabled(merchantId: string, endpointId: string) {
    const answer = await herald.api("GET", `/v1/merchants/${merchantId}/endpoints/${endpointId}`);
    return answer.status === 200 ? answer.body.enabled : "gone";
  }

  it("answers a one-time portal link from the admin API, documented in /openapi.json", async () => {
    const merchantKey = (await herald.api("POST", `/v1/merchants/${shopA}/api-keys`, { mode: "test" })).body
      .key;
    const refused = await herald.api(
      "POST",
      `/v1/merchants/${shopA}/portal-sessions`,
      {},
      { key: merchantKey },
    );
    expect(refused.status).toBe(403);
    const link = await portalLink(shopA, { mode: "test", ttl: 600 });
    expect(link.url).toMatch(new RegExp(`^${herald.url}/ui/portal#token=[\\w-]{43}$`));
    expect(link).toMatchObject({ mode: "test", read_only: false });
    const bad = await herald.api("POST", `/v1/merchants/${shopA}/portal-sessions`, { ttl: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("ttl");
    const openapi = await herald.api("GET", "/openapi.json");
    expect(openapi.body.paths["/v1/merchants/{mid}/portal-sessions"].post.responses["201"]).toBeDefined();
    // Only the token's hash is stored.
    const rows = await herald.database.db.selectFrom("portal_links").select("token_hash").execute();
    const token = new URL(link.url).searchParams.get("token")!;
    expect(rows.every((row) => !row.token_hash.toString("utf8").includes(token))).toBe(true);
  });

  it("opens a portal link once: a reused or expired link is refused", async () => {
    const link = await portalLink(shopA);
    const first = await openPage(browser);
    await follow(first.page, link.url);
    expect(first.page.url()).toBe(`${herald.url}/ui/merchants/${shopA}/endpoints`);
    // The token never reached the server in a URL, and is gone from the address bar.
    expect(first.page.url()).not.toContain("token");

    const again = await openPage(browser);
    await refused(again.page, link.url);
    await screenshot(again.page, "portal-link-refused");

    const stale = await portalLink(shopA);
    await herald.database.db
      .updateTable("portal_links")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("used_at", "is", null)
      .execute();
    const late = await openPage(browser);
    await refused(late.page, stale.url);
    // Refused links opened no session: the portal still asks to sign in.
    await late.page.goto(`${herald.url}/ui/merchants/${shopA}/endpoints`);
    expect(late.page.url()).toBe(`${herald.url}/ui/sign-in`);
  });

  it("keeps merchant A's session off merchant B's pages: direct URLs, forged posts, missing CSRF token", async () => {
    const { page } = await openPage(browser);
    await follow(page, (await portalLink(shopA, { mode: "test" })).url);
    const csrf = await csrfOf(page);

    for (const path of [
      `/ui/merchants/${shopB}/endpoints`,
      `/ui/merchants/${shopB}/endpoints/${endpointB}`,
      `/ui/merchants/${shopB}/deliveries`,
      `/ui/merchants/${shopA}/endpoints/${endpointB}`,
      `/ui/merchants/${shopB}/api-keys`,
      "/ui/console",
      "/ui/console/system",
    ]) {
      const answer = await page.goto(`${herald.url}${path}`);
      expect(answer?.status(), path).toBe(404);
      await expect(page.locator("main").textContent()).resolves.not.toContain("Shop B");
    }

    // A's valid token on B's endpoint: the API refuses it as unknown, and nothing changes.
    expect(
      (await post(page, `/ui/merchants/${shopB}/endpoints/${endpointB}/disable`, { _csrf: csrf })).status(),
    ).toBe(404);
    expect(
      (await post(page, `/ui/merchants/${shopB}/endpoints/${endpointB}/delete`, { _csrf: csrf })).status(),
    ).toBe(404);
    expect(
      (await post(page, `/ui/merchants/${shopB}/endpoints/${endpointB}/secret`, { _csrf: csrf })).status(),
    ).toBe(404);
    expect((await post(page, "/ui/console/merchants", { _csrf: csrf, name: "Forged" })).status()).toBe(404);
    expect(await endpointEnabled(shopB, endpointB)).toBe(true);

    // A's own endpoint, without the token or with another: refused before anything happens.
    expect((await post(page, `/ui/merchants/${shopA}/endpoints/${endpointA}/disable`, {})).status()).toBe(
      403,
    );
    expect(
      (
        await post(page, `/ui/merchants/${shopA}/endpoints/${endpointA}/disable`, {
          _csrf: `${csrf.slice(1)}x`,
        })
      ).status(),
    ).toBe(403);
    expect(await endpointEnabled(shopA, endpointA)).toBe(true);

    // The same post with the token works: the refusals above were about the token.
    expect(
      (await post(page, `/ui/merchants/${shopA}/endpoints/${endpointA}/disable`, { _csrf: csrf })).status(),
    ).toBe(303);
    expect(await endpointEnabled(shopA, endpointA)).toBe(false);
    await herald.api("PATCH", `/v1/merchants/${shopA}/endpoints/${endpointA}`, { enabled: true });
  });

  it("switches a portal session without a fixed mode between live and test", async () => {
    const { page } = await openPage(browser);
    await follow(page, (await portalLink(shopA)).url);
    await expect(page.locator(".empty").textContent()).resolves.toContain("No endpoints yet");
    await page.click("button:has-text('live mode')");
    await page.waitForURL(/\/endpoints$/);
    await expect(page.locator("tbody tr").count()).resolves.toBe(1);
    await expect(page.locator("button:has-text('test mode')").count()).resolves.toBe(1);
  });

  it("opens no session from a portal token posted by another site", async () => {
    const link = await portalLink(shopA);
    const token = new URL(link.url).hash.slice("#token=".length);
    const { page } = await openPage(browser);
    await page.goto(`${herald.url}/ui/sign-in`);
    const answer = await page.request.post(`${herald.url}/ui/portal`, { form: { token }, maxRedirects: 0 });
    expect(answer.status()).toBe(403);
    // Refused before it was spent: the link still opens.
    const other = await openPage(browser);
    await follow(other.page, link.url);
  });

  it("lets a read-only session look but not act", async () => {
    const { page } = await openPage(browser);
    await follow(page, (await portalLink(shopA, { mode: "test", read_only: true })).url);
    await page.goto(`${herald.url}/ui/merchants/${shopA}/endpoints/${endpointA}`);
    await expect(page.locator("button:has-text('Disable')").isDisabled()).resolves.toBe(true);
    await expect(page.locator("button:has-text('Send test webhook')").isDisabled()).resolves.toBe(true);
    const csrf = await csrfOf(page);
    for (const action of ["disable", "delete", "test", "secret", "rotate"]) {
      const answer = await post(page, `/ui/merchants/${shopA}/endpoints/${endpointA}/${action}`, {
        _csrf: csrf,
      });
      expect(answer.status(), action).toBe(403);
    }
    expect(await endpointEnabled(shopA, endpointA)).toBe(true);
    expect(receiver.received).toHaveLength(0);
  });

  it("ends a key session when its key is revoked, and any session when it expires", async () => {
    const created = await herald.api("POST", `/v1/merchants/${shopA}/api-keys`, { mode: "test" });
    const { page } = await openPage(browser);
    await signIn(page, herald.url, created.body.key);
    expect(page.url()).toBe(`${herald.url}/ui/merchants/${shopA}/endpoints`);
    await herald.api("DELETE", `/v1/merchants/${shopA}/api-keys/${created.body.id}`);
    await page.reload();
    expect(page.url()).toBe(`${herald.url}/ui/sign-in`);

    const other = await openPage(browser);
    await follow(other.page, (await portalLink(shopA, { mode: "test" })).url);
    await herald.database.db
      .updateTable("portal_sessions")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("kind", "=", "link")
      .execute();
    await other.page.reload();
    expect(other.page.url()).toBe(`${herald.url}/ui/sign-in`);
  });

  it("ends a session on sign-out", async () => {
    const { page } = await openPage(browser);
    await follow(page, (await portalLink(shopA)).url);
    await page.click("button:has-text('Sign out')");
    await page.waitForURL(`${herald.url}/ui/sign-in`);
    await page.goto(`${herald.url}/ui/merchants/${shopA}/endpoints`);
    expect(page.url()).toBe(`${herald.url}/ui/sign-in`);
  });

  it("shows the operator every merchant, and live system figures after deliveries", async () => {
    const { page, dialogs } = await openPage(browser);
    await signIn(page, herald.url, herald.adminKey);
    expect(page.url()).toBe(`${herald.url}/ui/console`);
    const names = await page.locator("tbody td:first-child").allTextContents();
    expect(names).toEqual(expect.arrayContaining(["Shop A", "Shop B"]));
    await page.fill("#q", "Shop B");
    await page.click("button:has-text('Search')");
    await expect(page.locator("tbody td:first-child").allTextContents()).resolves.toEqual(["Shop B"]);
    await screenshot(page, "console-merchants");

    // A new merchant, its first key (shown once, and working) and a portal link, all from the console.
    await page.fill("#name", "Shop C");
    await page.click("button:has-text('Create')");
    await page.waitForURL(/\/api-keys$/);
    await expect(page.locator(".empty").textContent()).resolves.toContain("No API keys yet");
    await page.click("button:has-text('New test key')");
    const key = await page.locator(".notice code.secret").textContent();
    expect(key).toMatch(/^hk_test_/);
    const shopC = page.url().split("/").at(-2)!;
    expect((await herald.api("GET", `/v1/merchants/${shopC}/endpoints`, undefined, { key })).status).toBe(
      200,
    );
    await page.goto(`${herald.url}/ui/merchants/${shopC}/api-keys`);
    await page.click("button:has-text('Portal link')");
    await expect(page.locator(".notice code.secret").textContent()).resolves.toMatch(/\/ui\/portal#token=/);

    await page.goto(`${herald.url}/ui/console/system`);
    const attempts = page.locator("[data-figure=attempts]");
    const before = Number(await attempts.textContent());
    for (let i = 0; i < 3; i++)
      await herald.api("POST", `/v1/merchants/${shopB}/events`, {
        type: "order.created",
        mode: "test",
        data: { i },
      });
    await receiver.waitFor(3);
    // The page refreshes its figures itself; no reload.
    await eventually(
      async () => (Number(await attempts.textContent()) >= before + 3 ? true : undefined),
      15_000,
    );
    await expect(page.locator("[data-figure=success-rate]").textContent()).resolves.toBe("100 %");
    expect(Number(await page.locator("[data-figure=deliveries-per-second]").textContent())).toBeGreaterThan(
      0,
    );
    await screenshot(page, "console-system");

    // The operator sees a merchant's portal pages too.
    await page.goto(`${herald.url}/ui/merchants/${shopB}/deliveries`);
    await expect(page.locator("tbody tr").count()).resolves.toBe(3);
    await screenshot(page, "deliveries");
    expect(dialogs).toEqual([]);
  });
});
