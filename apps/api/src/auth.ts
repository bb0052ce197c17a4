import { timingSafeEqual } from "node:crypto";
import { isId } from "@herald/core";
import { type Db, findApiKey, getMerchant, type Mode, type Scope } from "@herald/db";
import type { FastifyRequest } from "fastify";
import { HttpProblem, notFound } from "./problems.ts";

/** Who is calling: the provider's admin key, or one merchant's live or test key. */
export type Principal = { kind: "admin" } | { kind: "merchant"; merchantId: string; mode: Mode };

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
}

export async function authenticate(request: FastifyRequest, db: Db, adminKey: string): Promise<void> {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new HttpProblem("unauthorized", "Send Authorization: Bearer <api key>.");
  const key = match[1]!;
  if (safeEqual(key, adminKey)) {
    request.principal = { kind: "admin" };
    return;
  }
  const found = key.startsWith("hk_") ? await findApiKey(db, key) : undefined;
  if (!found) throw new HttpProblem("unauthorized", "The API key is unknown or revoked.");
  request.principal = { kind: "merchant", merchantId: found.merchant_id, mode: found.mode };
  request.log = request.log.child({ merchant_id: found.merchant_id });
}

export function requireAdmin(request: FastifyRequest): void {
  if (request.principal.kind !== "admin")
    throw new HttpProblem("forbidden", "This route needs the admin key.");
}

/**
 * The slice of a merchant's data this request may see. Another merchant's key, an unknown or
 * malformed merchant id all answer 404, so a caller learns nothing about other tenants.
 */
export async function merchantScope(request: FastifyRequest, db: Db, merchantId: string): Promise<Scope> {
  const principal = request.principal;
  if (!isId("merchant", merchantId)) throw notFound("merchant");
  if (principal.kind === "merchant") {
    if (principal.merchantId !== merchantId) throw notFound("merchant");
    return { merchantId, mode: principal.mode };
  }
  if (!(await getMerchant(db, merchantId))) throw notFound("merchant");
  return { merchantId };
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
