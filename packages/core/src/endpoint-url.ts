import { blockedReason, type Cidr, literalAddress } from "./address.ts";
import type { Mode } from "./modes.ts";

export const maxUrlLength = 2048;

/**
 * Why a URL cannot be registered for an endpoint of `mode`, or null when it can. Live endpoints
 * need https (the seeds promise it); a URL that names a blocked address literally is refused now,
 * while names are checked when the dispatcher connects, since DNS can change.
 */
export function endpointUrlProblem(raw: string, mode: Mode, allowed: readonly Cidr[]): string | null {
  if (raw.length > maxUrlLength) return `must be at most ${maxUrlLength} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute http(s) URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must use http or https";
  if (mode === "live" && url.protocol !== "https:") return "must use https for a live-mode endpoint";
  if (url.username || url.password) return "must not carry credentials; use custom headers instead";
  if (url.hash) return "must not have a #fragment";
  const literal = literalAddress(url.hostname);
  if (literal) {
    const reason = blockedReason(literal, allowed);
    if (reason) return `points at a ${reason} address, which Herald does not deliver to`;
  }
  return null;
}
