import { createHmac, timingSafeEqual } from "node:crypto";
import { findPortalSession, type Mode } from "@herald/db";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import type { Principal } from "../auth.ts";
import { asPrincipal } from "./delegation.ts";
import type { Nav } from "./html.ts";

export const sessionCookie = "herald_session";
export const modeCookie = "herald_mode";
export const signInCsrfCookie = "herald_sign_in";

/** A signed-in browser, as every dashboard page sees it. */
export interface UiSession {
  token: string;
  operator: boolean;
  merchantId: string | null;
  /** The mode the pages show: the session's own, or the one the switch chose. */
  mode: Mode;
  modeFixed: boolean;
  readOnly: boolean;
  csrf: string;
  principal: Principal;
}

declare module "fastify" {
  interface FastifyRequest {
    ui: UiSession | undefined;
  }
}

/** A page-level refusal, rendered as HTML with its status. */
export class UiError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, message: string, field?: string) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

/**
 * The CSRF token is derived from the session token, which only the cookie carries: a page of the
 * session can embed it, another site can neither read nor compute it.
 */
export function csrfFor(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("herald csrf").digest("base64url");
}

export function sameToken(a: unknown, b: string): boolean {
  if (typeof a !== "string") return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Cookies are Secure unless the browser talks to loopback over plain HTTP (local development).
 * Where HERALD_PORTAL_FRAME_ANCESTORS lets other sites frame the dashboard, a Lax cookie would never
 * reach the frame: secure cookies are then SameSite=None and Partitioned (kept per embedding site),
 * and the CSRF tokens alone guard every state-changing form, as they do everywhere.
 */
export function cookieOptions(request: FastifyRequest, maxAgeSeconds?: number) {
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(request.hostname);
  const secure = request.protocol === "https" || !loopback;
  const framed = secure && (request.server as HeraldApp).herald.config.portalFrameAncestors.length > 0;
  return {
    path: "/ui",
    httpOnly: true,
    sameSite: framed ? ("none" as const) : ("lax" as const),
    secure,
    ...(framed && { partitioned: true }),
    ...(maxAgeSeconds !== undefined && { maxAge: maxAgeSeconds }),
  };
}

export async function loadSession(app: HeraldApp, request: FastifyRequest): Promise<UiSession | undefined> {
  const token = request.cookies[sessionCookie];
  if (!token || token.length > 100) return undefined;
  const row = await findPortalSession(app.herald.db, token);
  if (!row) return undefined;
  const chosen = request.cookies[modeCookie] === "test" ? "test" : "live";
  const mode = row.mode ?? chosen;
  const principal: Principal =
    row.kind === "operator" ? { kind: "admin" } : { kind: "merchant", merchantId: row.merchant_id!, mode };
  return {
    token,
    operator: row.kind === "operator",
    merchantId: row.merchant_id,
    mode,
    modeFixed: row.kind === "operator" || row.mode !== null,
    readOnly: row.read_only,
    csrf: csrfFor(token),
    principal,
  };
}

export function requireSession(request: FastifyRequest): UiSession {
  if (!request.ui) throw new UiError(401, "Sign in first.");
  return request.ui;
}

export function requireOperator(request: FastifyRequest): UiSession {
  const session = requireSession(request);
  // Same answer as an unknown page: a merchant learns nothing about the console.
  if (!session.operator) throw new UiError(404, "No such page.");
  return session;
}

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: each page reads the fields its route documents
  body: any;
}

/**
 * Calls Herald's REST API as the session: the page gets exactly what the session's key would.
 * A read-only session may only read.
 */
export async function callApi(
  app: HeraldApp,
  session: UiSession,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  body?: unknown,
): Promise<ApiAnswer> {
  if (method !== "GET" && session.readOnly) throw new UiError(403, "This session is read-only.");
  const answer = await asPrincipal(session.principal, (headers) =>
    app.inject({
      method,
      url,
      headers: { ...headers, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    }),
  );
  return { status: answer.statusCode, body: answer.body ? JSON.parse(answer.body) : null };
}

/** The API's answer when it succeeded; its problem as a page error otherwise. */
export function ok(answer: ApiAnswer): ApiAnswer["body"] {
  if (answer.status < 300) return answer.body;
  const problem = answer.body ?? {};
  const field = typeof problem.field === "string" ? problem.field : undefined;
  throw new UiError(answer.status, String(problem.detail ?? "The request failed."), field);
}

/**
 * A form the API refused for what was typed (400, or 409 for a name taken): the problem, so the
 * page can show the form again with the values and the field at fault. Anything else: undefined.
 */
export function refusal(answer: ApiAnswer): UiError | undefined {
  if (answer.status !== 400 && answer.status !== 409) return undefined;
  const problem = answer.body ?? {};
  const field = typeof problem.field === "string" ? problem.field : undefined;
  return new UiError(answer.status, String(problem.detail ?? "The request was refused."), field);
}

/** Checks a state-changing form's CSRF token. */
export function checkCsrf(request: FastifyRequest, session: UiSession): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (!sameToken(body._csrf, session.csrf))
    throw new UiError(403, "The form is stale or was not sent by this dashboard: reload and try again.");
}

export function redirect(reply: FastifyReply, to: string) {
  return reply.code(303).header("location", to).send();
}

/** A merchant path segment built from the session, never echoed raw into a URL. */
export function mpath(merchantId: string, rest = ""): string {
  return `/ui/merchants/${encodeURIComponent(merchantId)}${rest}`;
}

/** The header links a session sees; an operator looking at a merchant also gets that merchant's. */
export function navFor(session: UiSession, merchantId?: string): Nav {
  const links: Nav["links"] = [];
  if (session.operator)
    links.push(
      { href: "/ui/console", label: "Merchants" },
      { href: "/ui/console/system", label: "System" },
      { href: "/ui/console/event-types", label: "Event types" },
      { href: "/ui/console/operator-endpoints", label: "Operational webhooks" },
    );
  const mid = merchantId ?? session.merchantId;
  if (mid) {
    links.push(
      { href: mpath(mid, "/endpoints"), label: "Endpoints" },
      { href: mpath(mid, "/deliveries"), label: "Deliveries" },
    );
    if (session.operator) links.push({ href: mpath(mid, "/api-keys"), label: "API keys" });
  }
  return {
    links,
    csrf: session.csrf,
    who: session.operator
      ? "operator"
      : `${session.readOnly ? "read-only · " : ""}${session.modeFixed ? `${session.mode} mode` : ""}`,
    ...(!session.modeFixed && { modeSwitch: { current: session.mode, csrf: session.csrf } }),
  };
}

/** The merchant data a session sees, for the few reads the REST API has no route for. */
export function scopeOf(session: UiSession, merchantId: string) {
  return { merchantId, mode: session.operator ? undefined : session.mode };
}
