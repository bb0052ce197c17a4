import { timingSafeEqual } from "node:crypto";
import { isId } from "@herald/core";
import { type Db, findApiKey, getMerchant, type Mode, type Scope } from "@herald/db";
import type { FastifyRequest, RouteOptions } from "fastify";
import { HttpProblem, notFound } from "./problems.ts";
import { delegatedPrincipal } from "./ui/delegation.ts";

/** Who is calling: the provider's admin key, or one merchant's live or test key. */
export type Principal = { kind: "admin" } | { kind: "merchant"; merchantId: string; mode: Mode };

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
    /** The merchant data a route under /v1/merchants/:mid may see; set before the body is read. */
    scope: Scope;
  }
  interface FastifyContextConfig {
    /** Only the provider's admin key may call this route; merchant keys get 403. */
    adminOnly?: boolean;
  }
}

/**
 * Runs first on every keyed request, before its body is read or validated: who is calling, whether
 * the route is theirs to use, and which merchant's data they see. A caller without the right to a
 * route learns its status and nothing else, whatever it sends.
 */
export async function authorize(request: FastifyRequest, db: Db, adminKey: string): Promise<void> {
  request.principal = await authenticate(request, db, adminKey);
  if (request.routeOptions.config.adminOnly && request.principal.kind !== "admin")
    throw new HttpProblem("forbidden", "This route needs the admin key.");
  const { mid } = (request.params ?? {}) as { mid?: string };
  if (mid !== undefined) request.scope = await merchantScope(request, db, mid);
}

async function authenticate(request: FastifyRequest, db: Db, adminKey: string): Promise<Principal> {
  // A dashboard page calling the API as its signed-in session (ui/delegation.ts).
  const delegated = delegatedPrincipal(request);
  if (delegated) return delegated;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  if (!match) throw new HttpProblem("unauthorized", "Send Authorization: Bearer <api key>.");
  const key = match[1]!;
  if (safeEqual(key, adminKey)) return { kind: "admin" };
  const found = key.startsWith("hk_") ? await findApiKey(db, key) : undefined;
  if (!found) throw new HttpProblem("unauthorized", "The API key is unknown or revoked.");
  request.log = request.log.child({ merchant_id: found.merchant_id });
  return { kind: "merchant", merchantId: found.merchant_id, mode: found.mode };
}

/** An onRoute hook: every route of the plugin that adds it is admin-only. */
export function adminOnly(route: RouteOptions): void {
  route.config = { ...route.config, adminOnly: true };
}

/**
 * The slice of a merchant's data this request may see. Another merchant's key, an unknown, deleted
 * or malformed merchant id all answer 404, so a caller learns nothing about other tenants.
 */
async function merchantScope(request: FastifyRequest, db: Db, merchantId: string): Promise<Scope> {
  // authorize already decided it for this request's merchant: no second lookup.
  if (request.scope?.merchantId === merchantId) return request.scope;
  const principal = request.principal;
  if (!isId("merchant", merchantId)) throw notFound("merchant");
  if (principal.kind === "merchant") {
    if (principal.merchantId !== merchantId) throw notFound("merchant");
    return { merchantId, mode: principal.mode };
  }
  if (!(await merchantExists(db, merchantId))) throw notFound("merchant");
  return { merchantId };
}

// Merchants are created once and only soft-deleted, rarely: a merchant seen to exist is trusted for
// a few seconds, which spares every admin request (each emit among them) a lookup. Another API
// process may accept a just-deleted merchant's emits for that long; they fan out to nothing, since
// its endpoints went with it.
const merchantTrustMs = 5000;
const knownMerchants = new Map<string, number>();

async function merchantExists(db: Db, merchantId: string): Promise<boolean> {
  if ((knownMerchants.get(merchantId) ?? 0) > Date.now()) return true;
  if (!(await getMerchant(db, merchantId))) return false;
  if (knownMerchants.size > 100_000) knownMerchants.clear();
  knownMerchants.set(merchantId, Date.now() + merchantTrustMs);
  return true;
}

/** Called when this process deletes a merchant, so it stops trusting it at once. */
export function forgetMerchant(merchantId: string): void {
  knownMerchants.delete(merchantId);
}

/** The mode a write happens in: a mode-bound key may only write its own mode. */
export function writeMode(scope: Scope, requested: Mode | undefined, fallback: Mode): Mode {
  const mode = requested ?? scope.mode ?? fallback;
  if (scope.mode && mode !== scope.mode) {
    throw new HttpProblem("forbidden", `A ${scope.mode}-mode key cannot write ${mode}-mode data.`, "mode");
  }
  return mode;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
