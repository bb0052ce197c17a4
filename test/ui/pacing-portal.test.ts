import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMerchant, eventually, startTestHerald, type TestHerald } from "../support/herald.ts";
import { Receiver } from "../support/receiver.ts";
import { launchBrowser, openPage, screenshot, signIn } from "./browser.ts";

describe("the portal sets an endpoint's rate limit and FIFO ordering, and shows what a delivery waits behind", () => {
  let herald: TestHerald;
  let browser: Browser;
  let receiver: Receiver;
  let merchant: string;
  let key: string;

  beforeAll(async () => {
    [herald, browser, receiver] = await Promise.all([
      // Hourly retries become 360 ms apart: the failing head keeps failing while the page is read.
      startTestHerald({ HERALD_RETRY_TIME_SCALE: "0.0001" }),
      launchBrowser(),
      // The first event always fails: it heads the line and everything else waits behind it.
      Receiver.start((request) => ({ status: JSON.parse(request.body).data.n === 0 ? 500 : 200 })),
    ]);
    merchant = await createMerchant(herald, "Ledger Shop");
    key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([herald?.stop(), receiver?.close()]);
  });

  it("adds a FIFO endpoint limited to 5 per second, then lists its waiting deliveries as waiting behind the head", async () => {
    const { page, dialogs, errors } = await openPage(browser);
    await signIn(page, herald.url, key);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/new`);
    await page.fill("#url", receiver.url);
    await page.fill("#other_types", "ledger.*");
    await page.fill("#rate_limit_per_second", "5");
    await page.selectOption("#ordering", "fifo");
    await page.selectOption("#retry_policy", "test");
    await page.click("button:has-text('Add endpoint')");
    await page.waitForURL(/\/endpoints\/ep_/);
    const endpoints = await herald.api("GET", `/v1/merchants/${merchant}/endpoints`);
    expect(endpoints.body.data[0]).toMatchObject({ rate_limit_per_second: 5, ordering: "fifo" });
    // The edit form shows them as set.
    await expect(page.locator("#rate_limit_per_second").inputValue()).resolves.toBe("5");
    await expect(page.locator("#ordering").inputValue()).resolves.toBe("fifo");

    for (let n = 0; n < 3; n++)
      await herald.api("POST", `/v1/merchants/${merchant}/events`, {
        type: "ledger.entry",
        mode: "test",
        data: { n },
      });
    const head = await eventually(async () => {
      const list = await herald.api("GET", `/v1/merchants/${merchant}/deliveries`);
      const waiting = list.body.data.filter((d: { waiting_behind?: string }) => d.waiting_behind);
      return waiting.length === 2 ? (waiting[0].waiting_behind as string) : undefined;
    });
    await page.goto(`${herald.url}/ui/merchants/${merchant}/deliveries`);
    await expect(page.locator(`text=waiting behind ${head}`).count()).resolves.toBe(2);
    await screenshot(page, "deliveries-waiting-behind");
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });
});
