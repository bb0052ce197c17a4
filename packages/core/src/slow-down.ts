import { parseRetryAfter } from "./retry.ts";

/**
 * Standard Webhooks asks senders to slow down an endpoint that answers 429 (too many requests),
 * 502 (bad gateway) or 504 (gateway timeout): its server, or what stands in front of it, is
 * overwhelmed, and every other delivery to it would only add to that.
 */
export const slowDownStatuses: ReadonlySet<number> = new Set([429, 502, 504]);

/** The pause when the answer names none (Retry-After), and the longest one honoured. */
export const slowDown = { defaultMs: 5_000, maxMs: 10 * 60_000 };

/**
 * How long the whole endpoint pauses after this answer, in milliseconds; null when the answer asks
 * for nothing. Retry-After, when readable, sets it (capped; real seconds, as the receiver asked);
 * otherwise a short default, times `scale` (test deployments shrink time).
 */
export function slowDownPauseMs(
  status: number | null,
  retryAfterHeader: string | undefined,
  now: Date,
  scale = 1,
): number | null {
  if (status === null || !slowDownStatuses.has(status)) return null;
  const until = parseRetryAfter(retryAfterHeader, now);
  const asked = until ? until.getTime() - now.getTime() : slowDown.defaultMs * scale;
  return Math.round(Math.min(Math.max(asked, 0), slowDown.maxMs));
}
