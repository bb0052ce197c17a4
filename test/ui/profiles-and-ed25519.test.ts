import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMerchant, startTestHerald, type TestHerald } from "../support/herald.ts";
import { Receiver } from "../support/receiver.ts";
import { csrfOf, launchBrowser, openPage, screenshot, signIn } from "./browser.ts";

/**
 * The portal's part of delivery profiles, the event-type catalog and Ed25519 endpoints: what an
 * operator may choose (profiles), what every session sees (the public key), what it never sees
 * (the signing key).
 */
describe("profiles, catalog types and Ed25519 keys in the portal", () => {
  let herald: TestHerald;
  let browser: Browser;
  let receiver: Receiver;
  let merchant: string;

  beforeAll(async () => {
    [herald, browser, receiver] = await Promise.all([startTestHerald(), launchBrowser(), Receiver.start()]);
    merchant = await createMerchant(herald, "Keys Shop");
    const profile = await herald.api("POST", "/v1/profiles", {
      name: "asymmetric",
      description: "Ed25519 by default",
      signature_scheme: "standard-ed25519",
    });
    expect(profile.status, JSON.stringify(profile.body)).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([herald?.stop(), receiver?.close()]);
  });

  it("lets the operator give a merchant a profile whose default scheme is ed25519, and shows its endpoints' public key, never the signing key", async () => {
    const { page, dialogs, errors } = await openPage(browser);
    await signIn(page, herald.url, herald.adminKey);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/api-keys`);
    await page.selectOption("#profile", "asymmetric");
    await Promise.all([page.waitForLoadState("load"), page.click("button:has-text('Save profile')")]);
    await expect(page.locator("#profile").inputValue()).resolves.toBe("asymmetric");
    expect((await herald.api("GET", `/v1/merchants/${merchant}`)).body.profile).toBe("asymmetric");

    // The scheme left at "the delivery profile's": the merchant's profile makes it ed25519.
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/new`);
    await page.selectOption("#mode", "test");
    await page.fill("#url", `${receiver.url}/ed`);
    await Promise.all([page.waitForURL(/\/endpoints\/ep_/), page.click("button:has-text('Add endpoint')")]);
    const eid = page.url().split("/").at(-1)!;
    const endpoint = (await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${eid}`)).body;
    expect(endpoint.signature_scheme).toBe("standard-ed25519");
    await expect(page.locator("code.public-key").allTextContents()).resolves.toEqual([endpoint.public_key]);
    await expect(page.locator("button:has-text('Reveal secret')").count()).resolves.toBe(0);
    await expect(page.content()).resolves.not.toContain("whsk_");
    // Nor does the reveal route, posted by hand with a valid CSRF token, show the signing key.
    const reveal = await page.request.post(`${page.url()}/secret`, {
      form: { _csrf: await csrfOf(page) },
      maxRedirects: 0,
    });
    expect(reveal.status()).toBe(400);
    expect(await reveal.text()).not.toContain("whsk_");

    // After a rotation both public keys show, the previous one with the time it stops signing.
    // The page asks before rotating: this time the answer is yes.
    page.removeAllListeners("dialog");
    page.once("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.click("button:has-text('Rotate')");
    await page.locator(".notice").waitFor();
    const rotated = (await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${eid}`)).body;
    await expect(page.locator(".notice code.secret").textContent()).resolves.toBe(rotated.public_key);
    await expect(page.locator("code.public-key").allTextContents()).resolves.toEqual(
      rotated.public_keys.map((k: { key: string }) => k.key),
    );
    await expect(page.locator(".public-keys li").nth(1).textContent()).resolves.toContain("signs until");
    await expect(page.content()).resolves.not.toContain("whsk_");
    await screenshot(page, "ed25519-public-keys");
    expect(errors).toEqual([]);
    expect(dialogs.filter((d) => !d.startsWith("Rotate"))).toEqual([]);
  });

  it("lets the operator choose an endpoint's scheme (over its profile's) and own profile, and change the profile back", async () => {
    const { page } = await openPage(browser);
    await signIn(page, herald.url, herald.adminKey);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/new`);
    await page.selectOption("#mode", "test");
    await page.fill("#url", `${receiver.url}/hex`);
    await page.selectOption("#signature_scheme", "hmac-sha256-hex");
    await page.selectOption("#profile", "asymmetric");
    await Promise.all([page.waitForURL(/\/endpoints\/ep_/), page.click("button:has-text('Add endpoint')")]);
    const eid = page.url().split("/").at(-1)!;
    const path = `/v1/merchants/${merchant}/endpoints/${eid}`;
    expect((await herald.api("GET", path)).body).toMatchObject({
      signature_scheme: "hmac-sha256-hex",
      profile: "asymmetric",
    });
    await expect(page.locator("#profile").inputValue()).resolves.toBe("asymmetric");

    await page.selectOption("#profile", "");
    await Promise.all([page.waitForLoadState("load"), page.click("button:has-text('Save')")]);
    expect((await herald.api("GET", path)).body.profile).toBeUndefined();
  });

  it("offers a merchant no profile choice (only the admin key may list profiles)", async () => {
    const key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
    const { page } = await openPage(browser);
    await signIn(page, herald.url, key);
    await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/new`);
    await expect(page.locator("#profile").count()).resolves.toBe(0);
    await expect(page.locator("#signature_scheme option[value='standard-ed25519']").count()).resolves.toBe(1);
  });

  // The catalog's routes arrive with the event-type catalog; until then the picker offers used types.
  describe.runIf(existsSync(new URL("../../apps/api/src/routes/event-types.ts", import.meta.url)))(
    "with the event-type catalog",
    () => {
      it("offers the catalog's types, with their descriptions, in the endpoint form", async () => {
        for (const [name, description] of [
          ["invoice.paid", "An invoice was paid in full"],
          ["invoice.voided", "An invoice was voided"],
        ])
          expect((await herald.api("POST", "/v1/event-types", { name, description })).status).toBe(201);
        const key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body
          .key;
        const { page } = await openPage(browser);
        await signIn(page, herald.url, key);
        await page.goto(`${herald.url}/ui/merchants/${merchant}/endpoints/new`);
        const offered = await Promise.all(
          (await page.locator("input[name=event_types]").all()).map((input) => input.getAttribute("value")),
        );
        expect(offered).toEqual(expect.arrayContaining(["invoice.paid", "invoice.voided"]));
        await expect(page.locator("label.check:has-text('invoice.paid')").textContent()).resolves.toContain(
          "An invoice was paid in full",
        );
      });
    },
  );
});
