import { randomBytes } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Principal } from "../auth.ts";

/**
 * How a dashboard page calls the REST API as its signed-in session, so that a page can show and do
 * exactly what that session could through the API: same routes, same scope, same validation. Each
 * in-process call carries a fresh random token naming the session's principal for that one
 * request; the token lives in this process's memory only, so a header sent from outside names
 * nothing.
 */
const header = "x-herald-delegation";
const pending = new Map<string, Principal>();

export async function asPrincipal<T>(
  principal: Principal,
  call: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const token = randomBytes(32).toString("base64url");
  pending.set(token, principal);
  try {
    return await call({ [header]: token });
  } finally {
    pending.delete(token);
  }
}

/** The principal an in-process dashboard call stands for; undefined for every other request. */
export function delegatedPrincipal(request: FastifyRequest): Principal | undefined {
  const token = request.headers[header];
  return typeof token === "string" ? pending.get(token) : undefined;
}
