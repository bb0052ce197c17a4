import { mkdir } from "node:fs/promises";
import chromiumPackage from "@sparticuz/chromium";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** Where screenshots of the main pages land; docs/screenshots keeps a few of them. */
export const screenshotDir = new URL("../../test-results/screenshots/", import.meta.url);

// @sparticuz/chromium's serverless flags, less those that would weaken what these tests check: with
// --single-process, fetches from one context carried another context's cookies (seen here), and
// --disable-web-security / insecure content would drop the same-origin rules an attack runs into.
const weakening = new Set(["--single-process", "--disable-web-security", "--allow-running-insecure-content"]);

/** One headless Chromium per test file: the one @sparticuz/chromium unpacks, no download. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = await chromiumPackage.executablePath();
  const args = chromiumPackage.args.filter((arg) => !weakening.has(arg));
  return chromium.launch({ executablePath, args, headless: true });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Every dialog (alert, confirm, prompt) the page opened: hostile markup would show here. */
  dialogs: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
}

/** A fresh browser context (its own cookies) with a page whose dialogs and errors are recorded. */
export async function openPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
): Promise<WatchedPage> {
  // A fixed locale and timezone, so the times the page localizes read the same on every machine.
  const context = await browser.newContext({ viewport, locale: "en-GB", timezoneId: "Europe/Paris" });
  // Well inside the test timeout, so a stuck step fails with its own name.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const watched: WatchedPage = { page, context, dialogs: [], errors: [] };
  page.on("dialog", (dialog) => {
    watched.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.type() === "error") watched.errors.push(message.text());
  });
  page.on("pageerror", (error) => watched.errors.push(error.message));
  return watched;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, screenshotDir).pathname, fullPage: false });
}

export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/ui/sign-in`);
  await page.fill("#key", key);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.endsWith("/sign-in")),
    page.click("button[type=submit]"),
  ]);
}

/** The CSRF token the page's forms carry. */
export function csrfOf(page: Page): Promise<string> {
  return page.locator("input[name=_csrf]").first().inputValue();
}
