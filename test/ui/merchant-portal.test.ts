import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settledDelivery } from "../support/deliveries.ts";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "../support/herald.ts";
import { Receiver } from "../support/receiver.ts";
import { launchBrowser, openPage, screenshot, signIn } from "./browser.ts";

// A custom policy of two 1-second delays runs in 20 ms at this scale.
const scale = 0.01;
const hostileBody = `<script>window.__pwned = 1; alert("body")</script>"><img src=x onerror="window.__pwned = 2; alert('img')">`;
const hostileHeader = `"><img src=x onerror="window.__pwned = 3; alert('header')">`;

describe("a merchant works in the portal", () => {
  let herald: TestHerald;
  let browser: Browser;
  let healthy: Receiver;
  let flaky: Receiver;
  let hostile: Receiver;
  let broken = true;
  let merchant: string;
  let key: string;

  beforeAll(async () => {
    [herald, browser, healthy, flaky, hostile] = await Promise.all([
      startTestHerald({ HERALD_RETRY_TIME_SCALE: String(scale) }),
      launchBrowser(),
      Receiver.start(() => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: '{"ok":true}',
      })),
      Receiver.start(() => (broken ? { status: 500, body: "down" } : { status: 200, body: "back" })),
      Receiver.start(() => ({ status: 200, headers: { "x-evil": hostileHeader }, body: hostileBody })),
    ]);
    merchant = await createMerchant(herald, "Portal Shop");
    key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
    // The endpoint form offers the types this merchant's events already use.
    for (const type of ["payment.succeeded", "refund.created", "payout.paid"])
      await herald.api("POST", `/v1/merchants/${merchant}/events`, { type, mode: "test", data: {} });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([herald?.stop(), healthy?.close(), flaky?.close(), hostile?.close()]);
  });

  it("signs in with an API key, adds an endpoint for two event types and sees its test webhook's 200", async () => {
    const { page, dialogs, errors } = await openPage(browser);
    await signIn(page, herald.url, key);
    expect(page.url()).toBe(`${herald.url}/ui/merchants/${merchant}/endpoints`);
    await expect(page.locator(".empty").textContent()).resolves.toContain("No endpoints yet");

    await page.click("text=Add endpoint");
    await page.fill("#url", healthy.url);
    await page.fill("#description", "Orders service");
    await page.check("input[name=event_types][value='payment.succeeded']");
    await page.check("input[name=event_types][value='refund.created']");
    await screenshot(page, "endpoint-form");
    await page.click("button:has-text('Add endpoint')");
    await page.waitForURL(/\/endpoints\/ep_/);

    const endpoints = await herald.api("GET", `/v1/merchants/${merchant}/endpoints`);
    expect(endpoints.body.data).toHaveLength(1);
    expect(endpoints.body.data[0]).toMatchObject({
      url: healthy.url,
      mode: "test",
      event_types: ["payment.succeeded", "refund.created"],
    });

    await page.click("button:has-text('Send test webhook')");
    const result = page.locator("#test-result .attempt");
    await result.waitFor();
    await expect(result.locator(".status").textContent()).resolves.toBe("200");
    await expect(page.locator("#test-result pre.json").textContent()).resolves.toBe('{\n  "ok": true\n}');
    expect(healthy.received).toHaveLength(1);

    // The charts draw from the attempts made (uPlot, loaded under the page's CSP).
    await page.reload();
    await page.locator(".chart .uplot").nth(1).waitFor();
    await expect(page.locator(".chart .uplot canvas").count()).resolves.toBe(2);

    await page.click("button:has-text('Reveal secret')");
    const secret = await page.locator("#secret code.secret").textContent();
    expect(secret).toMatch(/^whsec_/);
    await screenshot(page, "endpoint");

    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints`);
    await expect(page.locator("tbody tr").count()).resolves.toBe(1);
    await expect(page.locator(".health").textContent()).resolves.toContain("100 % ok");
    await screenshot(page, "endpoints");
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("shows a failing delivery's attempts with their scheduled times, then Retry now succeeds once the receiver is fixed", async () => {
    broken = true;
    const endpoint = await createEndpoint(herald, merchant, {
      url: flaky.url,
      event_types: ["payout.paid"],
      retry_policy: { custom: [1, 1] },
    });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payout.paid",
      mode: "test",
      data: { amount: 4200 },
    });
    const later = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payout.paid",
      mode: "test",
      data: { amount: 99 },
    });
    const { delivery } = await settledDelivery(herald, emitted.body.id);
    expect(delivery.status).toBe("failed");
    expect((await settledDelivery(herald, later.body.id)).delivery.status).toBe("failed");

    const { page, errors } = await openPage(browser);
    await signIn(page, herald.url, key);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/deliveries`);
    await page.selectOption("#status", "failed");
    await page.selectOption("#endpoint_id", endpoint.id);
    // Typed in the viewer's timezone (the tests' browsers run in Paris, UTC+1 in November), sent in UTC.
    await expect(page.locator("label[for=since] .tz").textContent()).resolves.toBe("Europe/Paris");
    await page.fill("#since", "2020-01-01T01:00:00");
    await Promise.all([page.waitForNavigation(), page.click("button:has-text('Filter')")]);
    expect(new URL(page.url()).searchParams.get("since")).toMatch(/^2020-01-01T00:00(:00)?$/);
    await expect(page.locator("#since").inputValue()).resolves.toMatch(/^2020-01-01T01:00(:00)?$/);
    // Both failed deliveries of that endpoint, newest first, and nothing else.
    const rows = page.locator("tbody tr");
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.first().locator("a").getAttribute("href")).resolves.toMatch(/\/deliveries\/dlv_/);
    expect(await rows.nth(1).locator("a").getAttribute("href")).toContain(delivery.id);
    await page.click(`a[href$="/deliveries/${delivery.id}"]`);
    const attempts = page.locator("ol.timeline .attempt");
    await expect(attempts.count()).resolves.toBe(3);
    await expect(attempts.first().locator(".status").textContent()).resolves.toBe("500");
    // Each attempt shows when it was due and when it started, both as machine-readable times.
    await expect(attempts.nth(1).locator("dd time").count()).resolves.toBe(2);
    await expect(page.locator(".status-failed").first().textContent()).resolves.toBe("failed");
    await screenshot(page, "delivery");

    broken = false;
    await page.click("button:has-text('Retry now')");
    // The delivery and its attempts are read one after the other: reload until both show the retry.
    await eventually(async () => {
      await page.reload();
      const attempts = await page.locator("ol.timeline .attempt").count();
      const succeeded = await page.locator("dd .status-succeeded").count();
      return attempts === 4 && succeeded === 1 ? true : undefined;
    }, 20_000);
    await expect(page.locator("ol.timeline .attempt.ok .status").textContent()).resolves.toBe("200");

    // Resend: the event goes to this endpoint once more, as a manual attempt of the same delivery.
    await page.click("button:has-text('Resend event')");
    await eventually(async () => {
      await page.reload();
      return (await page.locator("ol.timeline .attempt").count()) === 5 ? true : undefined;
    }, 20_000);

    // The other failed delivery comes back through a recovery of the window, its progress live.
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/${endpoint.id}`);
    await page.click("button:has-text('Recover')");
    await page.waitForURL(/\/operations\/op_/);
    await eventually(
      async () => ((await page.locator(".op-status").textContent()) === "completed" ? true : undefined),
      20_000,
    );
    await expect(page.locator("#progress p").textContent()).resolves.toContain(
      "1 of 1 re-sent · 1 succeeded",
    );
    await screenshot(page, "recovery");
    expect(errors).toEqual([]);
  });

  it("refuses a bad endpoint form with the field at fault, keeping what was typed", async () => {
    const { page } = await openPage(browser);
    await signIn(page, herald.url, key);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/new`);
    await page.fill("#url", healthy.url);
    await page.fill("#description", "Typed by hand");
    await page.fill("#headers", "webhook-signature: forged");
    await page.click("button:has-text('Add endpoint')");
    await expect(page.locator(".error code").textContent()).resolves.toBe("headers");
    await expect(page.locator("#description").inputValue()).resolves.toBe("Typed by hand");
    await expect(page.locator("#headers").inputValue()).resolves.toBe("webhook-signature: forged");
    const endpoints = await herald.api("GET", `/v1/merchants/${merchant}/endpoints`);
    expect(endpoints.body.data.map((e: { description: string }) => e.description)).not.toContain(
      "Typed by hand",
    );

    // Corrected, it is added; then its settings are edited on its page.
    await page.fill("#headers", "X-Team: payments");
    await page.click("button:has-text('Add endpoint')");
    await page.waitForURL(/\/endpoints\/ep_/);
    await page.fill("#timeout_seconds", "5");
    await page.fill("#headers", "X-Team: payments\nX-Region: eu");
    await Promise.all([page.waitForNavigation(), page.click("button:has-text('Save')")]);
    const id = page.url().split("/").at(-1);
    const edited = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${id}`);
    expect(edited.body).toMatchObject({
      description: "Typed by hand",
      timeout_ms: 5000,
      headers: { "X-Team": "payments", "X-Region": "eu" },
    });
  });

  it("shows a hostile receiver's body and headers as text, and runs none of it", async () => {
    const endpoint = await createEndpoint(herald, merchant, { url: hostile.url, description: hostileHeader });
    const { page, dialogs } = await openPage(browser);
    await signIn(page, herald.url, key);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/${endpoint.id}`);
    await page.click("button:has-text('Send test webhook')");
    await page.locator("#test-result .attempt").waitFor();
    await expect(page.locator("#test-result pre.json").textContent()).resolves.toBe(hostileBody);
    await expect(page.locator("#test-result").textContent()).resolves.toContain(`x-evil: ${hostileHeader}`);

    await page.click("text=Open the delivery");
    await page.locator("ol.timeline .attempt").waitFor();
    await page
      .locator("ol.timeline details")
      .last()
      .evaluate((el) => el.setAttribute("open", ""));
    await expect(page.locator("ol.timeline").textContent()).resolves.toContain(hostileBody);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints`);
    await expect(page.locator("main").textContent()).resolves.toContain(hostileHeader);

    // Nothing ran: no dialog, no marker, no injected image anywhere.
    expect(dialogs).toEqual([]);
    await expect(page.evaluate("window.__pwned")).resolves.toBeUndefined();
    await expect(page.locator("main img").count()).resolves.toBe(0);
  });

  it("fits a phone's width", async () => {
    const { page } = await openPage(browser, { width: 390, height: 844 });
    await signIn(page, herald.url, key);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "endpoints-phone");
  });
});
