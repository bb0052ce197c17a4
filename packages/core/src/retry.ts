/**
 * Retry schedules. A schedule is the list of times, in milliseconds after the first attempt, at
 * which a delivery is tried; its first entry is always 0.
 *
 * - `live`: BizFlex live mode. Every 3 minutes four times, then hourly for 72 hours: 77 attempts.
 * - `test`: BizFlex test mode. Hourly for 72 hours: 73 attempts.
 * - `exponential`: the "Webhook" seed. Delays of 1, 2, 4, 8 … minutes, each with ±10 % jitter,
 *   while they stay within 24 hours, and a last attempt at 24 hours.
 * - `custom`: the delays between attempts, in seconds, as the endpoint lists them.
 */
export type RetryPolicy = "live" | "test" | "exponential" | { custom: number[] };

export const customPolicyLimits = { maxDelays: 50, minDelaySeconds: 1, maxTotalSeconds: 7 * 24 * 3600 };

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

export function scheduleOffsets(policy: RetryPolicy, seed = ""): number[] {
  if (policy === "live") {
    const fast = [1, 2, 3, 4].map((n) => n * 3 * minute);
    return [0, ...fast, ...range(1, 72).map((h) => 12 * minute + h * hour)];
  }
  if (policy === "test") return [0, ...range(1, 72).map((h) => h * hour)];
  if (policy === "exponential") return exponentialOffsets(seededRandom(seed));
  const offsets = [0];
  for (const delay of policy.custom) offsets.push(offsets.at(-1)! + delay * second);
  return offsets;
}

/** A policy's schedule as published: the exponential one without its jitter, every delay exact. */
export function nominalOffsets(policy: RetryPolicy): number[] {
  return policy === "exponential" ? exponentialOffsets(() => 0.5) : scheduleOffsets(policy);
}

function exponentialOffsets(random: () => number): number[] {
  const window = 24 * hour;
  const offsets = [0];
  for (let delay = minute; ; delay *= 2) {
    const next = offsets.at(-1)! + Math.round(delay * (0.9 + 0.2 * random()));
    if (next >= window) break;
    offsets.push(next);
  }
  offsets.push(window);
  return offsets;
}

/** Checks a custom policy against its bounds; answers the problem, or null when it is acceptable. */
export function customPolicyProblem(delays: number[]): string | null {
  const { maxDelays, minDelaySeconds, maxTotalSeconds } = customPolicyLimits;
  if (delays.length === 0 || delays.length > maxDelays) return `must list 1 to ${maxDelays} delays`;
  if (delays.some((d) => !Number.isInteger(d) || d < minDelaySeconds)) {
    return `each delay must be a whole number of seconds, at least ${minDelaySeconds}`;
  }
  const total = delays.reduce((sum, d) => sum + d, 0);
  if (total > maxTotalSeconds) return `delays must add up to at most ${maxTotalSeconds} seconds (7 days)`;
  return null;
}

/**
 * When a delivery that just failed is tried next, or null when its schedule is exhausted.
 *
 * `anchor` is when the delivery was created (its first attempt's slot), `offsets` its schedule
 * (already scaled), `previous` the time the failed attempt was scheduled for. The next attempt takes
 * the first slot after `previous`. A receiver's `Retry-After` can push it later, never past the
 * schedule's last slot; slots it jumps over are skipped rather than fired in a burst afterwards.
 * A late attempt never skips slots: each slot is tried, late if need be.
 */
export function nextAttemptAt(
  offsets: readonly number[],
  anchor: Date,
  previous: Date,
  retryAfter?: Date,
): Date | null {
  const slot = offsets.find((offset) => anchor.getTime() + offset > previous.getTime());
  if (slot === undefined) return null;
  const at = anchor.getTime() + slot;
  if (!retryAfter || retryAfter.getTime() <= at) return new Date(at);
  const last = anchor.getTime() + offsets.at(-1)!;
  return new Date(Math.min(retryAfter.getTime(), last));
}

/** `Retry-After` as seconds or an HTTP date, resolved against `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): Date | null {
  if (!value) return null;
  const trimmed = value.trim();
  // Delay-seconds, or one of the three HTTP date forms, which all start with a day name.
  const at = /^\d+$/.test(trimmed)
    ? now.getTime() + Number(trimmed) * second
    : /^[A-Za-z]{3}/.test(trimmed)
      ? Date.parse(trimmed)
      : Number.NaN;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A deterministic generator, so a delivery's jittered schedule is the same every time it is read. */
function seededRandom(seed: string): () => number {
  let state = 2166136261;
  for (const char of seed) state = Math.imul(state ^ char.codePointAt(0)!, 16777619);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
