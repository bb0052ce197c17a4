import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import { createPortalSession, endPortalSession, findApiKey, spendPortalLink } from "@herald/db";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import { consolePages } from "./console.ts";
import { deliveryPages } from "./deliveries.ts";
import { endpointPages } from "./endpoints.ts";
import { eventTypePages } from "./event-types.ts";
import { html, page } from "./html.ts";
import { operatorEndpointPages } from "./operator-endpoints.ts";
import {
  checkCsrf,
  cookieOptions,
  loadSession,
  modeCookie,
  mpath,
  redirect,
  requireSession,
  sameToken,
  sessionCookie,
  signInCsrfCookie,
  UiError,
} from "./session.ts";

const require = createRequire(import.meta.url);

/** Files served under /ui/assets: the repo's own, and the libraries' as their npm packages ship them. */
const assets: Record<string, { type: string; body: Buffer }> = {
  "app.css": { type: "text/css", body: readFileSync(new URL("assets/app.css", import.meta.url)) },
  "app.js": { type: "text/javascript", body: readFileSync(new URL("assets/app.js", import.meta.url)) },
  "charts.js": { type: "text/javascript", body: readFileSync(new URL("assets/charts.js", import.meta.url)) },
  "htmx.min.js": {
    type: "text/javascript",
    body: readFileSync(require.resolve("htmx.org/dist/htmx.min.js")),
  },
  "uPlot.iife.min.js": {
    type: "text/javascript",
    body: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js")),
  },
  "uPlot.min.css": { type: "text/css", body: readFileSync(require.resolve("uplot/dist/uPlot.min.css")) },
};

const operatorSessionSeconds = 8 * 3600;
const keySessionSeconds = 8 * 3600;

/** The dashboard: the merchant portal and the operator console, server-rendered under /ui. */
export async function dashboardRoutes(app: HeraldApp) {
  const { db, config, adminKey } = app.herald;

  // Pages, not API operations: kept out of /openapi.json.
  app.addHook("onRoute", (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
        "frame-ancestors": config.portalFrameAncestors.length ? config.portalFrameAncestors : ["'self'"],
      },
    },
    // frame-ancestors decides who may embed the portal; X-Frame-Options could only say "nobody".
    frameguard: false,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 65_536 });
  app.decorateRequest("ui", undefined);
  app.addHook("onRequest", async (request, reply) => {
    // Pages show secrets and receivers' answers: never cached, never stored by a proxy.
    reply.header("cache-control", "no-store");
    request.ui = await loadSession(app, request);
  });
  app.setErrorHandler((error, request, reply) => renderError(error as Error, request, reply));
  app.setNotFoundHandler((request, reply) => renderError(new UiError(404, "No such page."), request, reply));

  app.get("/assets/:file", async (request, reply) => {
    const asset = assets[(request.params as { file: string }).file];
    if (!asset) throw new UiError(404, "No such file.");
    return reply.header("cache-control", "public, max-age=3600").type(asset.type).send(asset.body);
  });

  app.get("/", async (request, reply) => {
    const session = request.ui;
    if (!session) return redirect(reply, "/ui/sign-in");
    return redirect(reply, session.operator ? "/ui/console" : mpath(session.merchantId!, "/endpoints"));
  });

  app.get("/sign-in", async (request, reply) => {
    const csrf = randomBytes(24).toString("base64url");
    reply.setCookie(signInCsrfCookie, csrf, cookieOptions(request, 3600));
    return reply.type("text/html").send(signInPage(csrf).text);
  });

  app.post("/sign-in", async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const expected = request.cookies[signInCsrfCookie];
    if (!expected || !sameToken(body._csrf, expected))
      throw new UiError(403, "The sign-in form is stale: reload it and try again.");
    const key = typeof body.key === "string" ? body.key.trim() : "";
    let opened: { token: string; expiresAt: Date };
    let home: string;
    if (key.length > 0 && safeEqual(key, adminKey)) {
      opened = await createPortalSession(db, {
        kind: "operator",
        merchantId: null,
        mode: null,
        apiKeyId: null,
        readOnly: false,
        seconds: operatorSessionSeconds,
      });
      home = "/ui/console";
    } else {
      const found = key.startsWith("hk_") && key.length < 200 ? await findApiKey(db, key) : undefined;
      if (!found) {
        const again = randomBytes(24).toString("base64url");
        reply.setCookie(signInCsrfCookie, again, cookieOptions(request, 3600));
        return reply
          .code(401)
          .type("text/html")
          .send(signInPage(again, "That key is unknown or revoked.").text);
      }
      opened = await createPortalSession(db, {
        kind: "api_key",
        merchantId: found.merchant_id,
        mode: found.mode,
        apiKeyId: found.id,
        readOnly: false,
        seconds: keySessionSeconds,
      });
      home = mpath(found.merchant_id, "/endpoints");
    }
    startSession(request, reply, opened);
    return redirect(reply, home);
  });

  // The link carries its token in the fragment (#token=…), which never reaches a server: app.js
  // moves it into this form and posts it. A preview bot fetching the link spends nothing.
  app.get("/portal", async (request, reply) => {
    const csrf = randomBytes(24).toString("base64url");
    reply.setCookie(signInCsrfCookie, csrf, cookieOptions(request, 600));
    return reply.type("text/html").send(
      page(
        "Opening the portal",
        html`<form method="post" action="/ui/portal" id="portal-link" class="card narrow">
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="token" value="">
  <p class="loading-text">Opening the merchant portal…</p>
  <noscript><p class="error">Portal links need JavaScript to open.</p></noscript>
</form>`,
      ).text,
    );
  });

  app.post("/portal", async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const expected = request.cookies[signInCsrfCookie];
    if (!expected || !sameToken(body._csrf, expected))
      throw new UiError(403, "The portal link could not be opened here: open it again.");
    const token = body.token;
    const link =
      typeof token === "string" && token.length < 100 ? await spendPortalLink(db, token) : undefined;
    if (!link)
      throw new UiError(
        410,
        "This portal link was already used or has expired. Ask the provider's dashboard for a new one.",
      );
    const opened = await createPortalSession(db, {
      kind: "link",
      merchantId: link.merchant_id,
      mode: link.mode,
      apiKeyId: null,
      readOnly: link.read_only,
      seconds: link.session_seconds,
    });
    startSession(request, reply, opened);
    return redirect(reply, mpath(link.merchant_id, "/endpoints"));
  });

  app.post("/sign-out", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    await endPortalSession(db, session.token);
    reply.clearCookie(sessionCookie, cookieOptions(request));
    return redirect(reply, "/ui/sign-in");
  });

  app.post("/mode", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const mode = (request.body as Record<string, unknown>).mode === "test" ? "test" : "live";
    if (!session.modeFixed) reply.setCookie(modeCookie, mode, cookieOptions(request));
    const back = session.merchantId ? mpath(session.merchantId, "/endpoints") : "/ui";
    return redirect(reply, back);
  });

  await endpointPages(app);
  await deliveryPages(app);
  await consolePages(app);
  await operatorEndpointPages(app);
  await eventTypePages(app);
}

function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  opened: { token: string; expiresAt: Date },
) {
  const seconds = Math.floor((opened.expiresAt.getTime() - Date.now()) / 1000);
  reply.setCookie(sessionCookie, opened.token, cookieOptions(request, seconds));
  reply.clearCookie(signInCsrfCookie, cookieOptions(request));
}

function signInPage(csrf: string, error?: string) {
  return page(
    "Sign in",
    html`<form method="post" action="/ui/sign-in" class="card narrow">
  ${error && html`<p class="error" role="alert">${error}</p>`}
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="key">API key</label>
  <input id="key" name="key" type="password" autocomplete="off" required autofocus
    placeholder="hk_live_…, hk_test_… or the admin key">
  <p class="hint">A merchant key opens that merchant's portal in the key's mode; the admin key opens the operator console.
  Providers can also hand out one-time portal links (POST /v1/merchants/{id}/portal-sessions).</p>
  <button type="submit" class="primary">Sign in</button>
</form>`,
  );
}

function renderError(
  error: Error & { statusCode?: number; field?: string },
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const status = error instanceof UiError ? error.status : (error.statusCode ?? 500);
  if (status >= 500) request.log.error({ err: error }, "dashboard page failed");
  const message = status >= 500 ? "Something went wrong; the error was logged." : error.message;
  if (status === 401 && request.method === "GET" && !request.headers["hx-request"])
    return redirect(reply, "/ui/sign-in");
  const field = error instanceof UiError && error.field ? html` (field <code>${error.field}</code>)` : "";
  const body = html`<p class="error" role="alert">${message}${field}</p>`;
  reply.code(status).type("text/html");
  // htmx swaps the answer into the page: a fragment, not a second document.
  if (request.headers["hx-request"]) return reply.send(body.text);
  const session = request.ui;
  const back = session
    ? html`<p><a href="/ui">Back to the dashboard</a></p>`
    : html`<p><a href="/ui/sign-in">Sign in</a></p>`;
  return reply.send(page(status === 404 ? "Not found" : "Cannot do that", html`${body}${back}`).text);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
