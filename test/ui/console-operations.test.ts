import { verify } from "@herald/verify";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMerchant,
  emit,
  eventually,
  merchantWithEndpoint,
  useHerald,
  useReceivers,
} from "../support/fixture.ts";
import { csrfOf, launchBrowser, openPage, screenshot, signIn, type WatchedPage } from "./browser.ts";

/**
 * The page's own confirmations (a `confirm` before a destructive post) are accepted and counted;
 * any other dialog is one hostile markup opened, recorded in `dialogs` and dismissed.
 */
function acceptingConfirms(watched: WatchedPage): string[] {
  const confirmed: string[] = [];
  watched.page.removeAllListeners("dialog");
  watched.page.on("dialog", (dialog) => {
    if (dialog.type() === "confirm") {
      confirmed.push(dialog.message());
      void dialog.accept();
    } else {
      watched.dialogs.push(dialog.message());
      void dialog.dismiss();
    }
  });
  return confirmed;
}

describe("the operator console's operational webhooks and event-type catalog", () => {
  const scene = useHerald();
  const startReceiver = useReceivers();
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("creates an operator endpoint whose page shows the endpoint.disabled delivery a 410 caused, signed with the secret shown once", async () => {
    const { herald } = scene;
    const operator = await startReceiver();
    const watched = await openPage(browser);
    const { page, dialogs, errors } = watched;
    const confirmed = acceptingConfirms(watched);
    await signIn(page, herald.url, herald.adminKey);
    await page.click("header nav a:has-text('Operational webhooks')");
    await page.waitForURL(/\/ui\/console\/operator-endpoints$/);
    await expect(page.locator(".empty").textContent()).resolves.toContain("No operator endpoints yet");

    // A live endpoint must be https: refused by the API's rule, the field named, the form as typed.
    await page.fill("#url", operator.url);
    await page.check("input[name=event_types][value='endpoint.disabled']");
    await page.click("#new-operator-endpoint button[type=submit]");
    await expect(page.locator("#new-operator-endpoint .error code").textContent()).resolves.toBe("url");
    await expect(page.locator("#url").inputValue()).resolves.toBe(operator.url);
    await expect(page.locator("input[value='endpoint.disabled']").isChecked()).resolves.toBe(true);
    expect((await herald.api("GET", "/v1/operator-endpoints")).body.data).toEqual([]);

    await page.selectOption("#mode", "test");
    await page.click("#new-operator-endpoint button[type=submit]");
    const secret = (await page.locator(".notice code.secret").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    const [listed] = (await herald.api("GET", "/v1/operator-endpoints")).body.data;
    expect(listed).toMatchObject({ url: operator.url, mode: "test", event_types: ["endpoint.disabled"] });
    // Shown once: the list, opened again, carries no secret.
    await page.goto(`${herald.url}/ui/console/operator-endpoints`);
    await expect(page.locator("code.secret").count()).resolves.toBe(0);

    const gone = await startReceiver({ status: 410 });
    const { merchant, endpoint } = await merchantWithEndpoint(herald, { url: gone.url });
    await emit(herald, merchant);
    await operator.waitFor(1);
    // The secret the page showed is the one that signs.
    const heard = (await verify(
      operator.received[0]!.body,
      operator.received[0]!.headers as Record<string, string>,
      {
        secret,
      },
    )) as { type: string; data: Record<string, unknown> };
    expect(heard).toMatchObject({ type: "endpoint.disabled", data: { endpoint_id: endpoint.id } });

    await page.click(`a[href$='/operator-endpoints/${listed.id}']`);
    const delivery = page.locator("[data-delivery]");
    // The attempt is recorded just after the receiver answers.
    await eventually(async () => {
      await page.reload();
      return (await delivery.locator(".status-succeeded").count()) === 1 ? true : undefined;
    });
    await expect(delivery.locator(".event-type").textContent()).resolves.toBe("endpoint.disabled");
    await expect(delivery.locator(".attempt.ok .status").textContent()).resolves.toBe("200");
    await expect(delivery.locator(".attempt pre.json").first().textContent()).resolves.toContain(endpoint.id);
    await screenshot(page, "console-operator-endpoint");
    // The delivery links to the merchant endpoint it is about.
    await expect(delivery.locator("a[data-about]").getAttribute("href")).resolves.toBe(
      `/ui/merchants/${merchant}/endpoints/${endpoint.id}`,
    );

    // Disable, enable, rotate (a new secret, shown once), delete: each through the API.
    await page.click("button:has-text('Disable')");
    await expect(page.locator("section.card .health.bad").first().textContent()).resolves.toContain(
      "disabled",
    );
    expect((await herald.api("GET", `/v1/operator-endpoints/${listed.id}`)).body.enabled).toBe(false);
    await page.click("button:has-text('Enable')");
    expect((await herald.api("GET", `/v1/operator-endpoints/${listed.id}`)).body.enabled).toBe(true);
    await page.click("button:has-text('Rotate secret')");
    const rotated = await page.locator(".notice code.secret").textContent();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.click("section.card button:has-text('Delete')");
    await page.waitForURL(/\/ui\/console\/operator-endpoints$/);
    expect((await herald.api("GET", `/v1/operator-endpoints/${listed.id}`)).status).toBe(404);
    expect(confirmed).toEqual([expect.stringContaining("Rotate"), expect.stringContaining("Delete")]);
    expect(dialogs).toEqual([]);
    // The browser logs the refused form's 400; nothing else went wrong.
    expect(errors).toEqual([expect.stringContaining("status of 400")]);
  });

  it("adds an event type with a schema, refuses a bad schema naming the field and keeping what was typed, deprecates and deletes", async () => {
    const { herald } = scene;
    const watched = await openPage(browser);
    const { page, dialogs, errors } = watched;
    const confirmed = acceptingConfirms(watched);
    await signIn(page, herald.url, herald.adminKey);
    await page.click("header nav a:has-text('Event types')");
    await page.waitForURL(/\/ui\/console\/event-types$/);

    const schema =
      '{"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}';
    await page.fill("#name", "invoice.paid");
    await page.fill("#description", "An invoice was paid <b>in full</b>");
    await page.fill("#schema", schema);
    await page.fill("#example", '{"amount": 1200}');
    await page.click("#new-event-type button[type=submit]");
    await page.waitForURL(/\/ui\/console\/event-types$/);
    await expect(page.locator("h2[data-group=invoice]").count()).resolves.toBe(1);
    const row = page.locator("tr[data-event-type='invoice.paid']");
    await expect(row.locator("td").nth(1).textContent()).resolves.toContain("<b>in full</b>");
    const stored = (await herald.api("GET", "/v1/event-types/invoice.paid")).body;
    expect(stored.schema).toEqual(JSON.parse(schema));
    expect(stored.example).toEqual({ amount: 1200 });

    // A schema the API cannot use: refused, the field named, the form as typed.
    const bad = '{"type": "objekt"}';
    await page.fill("#name", "invoice.voided");
    await page.fill("#schema", bad);
    const [refused] = await Promise.all([
      page.waitForResponse(
        (r) => r.url().endsWith("/ui/console/event-types") && r.request().method() === "POST",
      ),
      page.click("#new-event-type button[type=submit]"),
    ]);
    expect(refused.status()).toBe(400);
    await expect(page.locator("#new-event-type .error code").textContent()).resolves.toBe("schema");
    await expect(page.locator("#name").inputValue()).resolves.toBe("invoice.voided");
    await expect(page.locator("#schema").inputValue()).resolves.toBe(bad);
    // Text that is not JSON at all, and an example the schema rejects, are refused the same way.
    await page.fill("#schema", "{not json");
    await page.click("#new-event-type button[type=submit]");
    await expect(page.locator("#new-event-type .error code").textContent()).resolves.toBe("schema");
    await page.fill("#schema", schema);
    await page.fill("#example", '{"amount": "twelve"}');
    await page.click("#new-event-type button[type=submit]");
    await expect(page.locator("#new-event-type .error code").textContent()).resolves.toMatch(/^example/);
    expect((await herald.api("GET", "/v1/event-types/invoice.voided")).status).toBe(404);
    // A name the catalog already has: 409, naming the field.
    await page.fill("#name", "invoice.paid");
    await page.fill("#example", '{"amount": 5}');
    await page.click("#new-event-type button[type=submit]");
    await expect(page.locator("#new-event-type .error code").textContent()).resolves.toBe("name");
    expect((await herald.api("GET", "/v1/event-types/invoice.paid")).body.example).toEqual({ amount: 1200 });
    await screenshot(page, "console-event-types");

    await page.goto(`${herald.url}/ui/console/event-types`);
    await row.locator("button:has-text('Deprecate')").click();
    await expect(row.locator(".health.warn").textContent()).resolves.toBe("deprecated");
    expect((await herald.api("GET", "/v1/event-types/invoice.paid")).body.deprecated).toBe(true);
    await row.locator("button:has-text('Undeprecate')").click();
    expect((await herald.api("GET", "/v1/event-types/invoice.paid")).body.deprecated).toBe(false);
    await row.locator("button:has-text('Delete')").click();
    await expect(row.count()).resolves.toBe(0);
    expect((await herald.api("GET", "/v1/event-types/invoice.paid")).status).toBe(404);
    expect(confirmed).toEqual([expect.stringContaining("Remove invoice.paid")]);
    expect(dialogs).toEqual([]);
    // The browser logs each refused form's 400 (and the 409); nothing else went wrong.
    expect(errors).toEqual([
      ...Array(3).fill(expect.stringContaining("status of 400")),
      expect.stringContaining("status of 409"),
    ]);
  });

  it("does not open these pages, or act through them, for a merchant key's session", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald, "Curious shop");
    const key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
    const { page } = await openPage(browser);
    await signIn(page, herald.url, key);
    await expect(page.locator("header nav").textContent()).resolves.not.toMatch(/Event types|Operational/);
    for (const path of ["/ui/console/operator-endpoints", "/ui/console/event-types"])
      expect((await page.goto(`${herald.url}${path}`))!.status()).toBe(404);
    // Forged posts with the session's own valid CSRF token change nothing.
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints`);
    const csrf = await csrfOf(page);
    const post = (path: string, form: Record<string, string>) =>
      page.request.post(`${herald.url}${path}`, { form, maxRedirects: 0 });
    const receiver = await startReceiver();
    expect(
      (
        await post("/ui/console/operator-endpoints", { _csrf: csrf, url: receiver.url, mode: "test" })
      ).status(),
    ).toBe(404);
    expect((await post("/ui/console/event-types", { _csrf: csrf, name: "forged.type" })).status()).toBe(404);
    const operatorEndpoints = (await herald.api("GET", "/v1/operator-endpoints")).body.data;
    expect(operatorEndpoints.some((e: { url: string }) => e.url === receiver.url)).toBe(false);
    expect((await herald.api("GET", "/v1/event-types/forged.type")).status).toBe(404);
  });
});
