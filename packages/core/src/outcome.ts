import { nextAttemptAt, parseRetryAfter } from "./retry.ts";

export type SuccessRule = "2xx" | "200";

// The one list of each: the database's types, the API's schemas and the dashboard derive from these.
/** Where a delivery stands. */
export const deliveryStatuses = ["pending", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];
/** Why an attempt was made: its delivery's schedule, a person (retry, resend, recovery), or a test send. */
export const attemptTriggers = ["scheduled", "manual", "test"] as const;
export type AttemptTrigger = (typeof attemptTriggers)[number];

export interface AttemptOutcomeInput {
  trigger: AttemptTrigger;
  /** Null when no usable response came (the attempt has an error class instead). */
  status: number | null;
  retryAfterHeader?: string | undefined;
  successRule: SuccessRule;
  /** The delivery's schedule, scaled, and its anchor (the delivery's creation). */
  offsets: readonly number[];
  anchor: Date;
  /** When this attempt was due. */
  scheduledAt: Date;
  now: Date;
}

export interface AttemptOutcome {
  succeeded: boolean;
  /** The delivery's new status; null leaves it as it is (a manual attempt that failed). */
  status: Exclude<DeliveryStatus, "cancelled"> | null;
  nextAttemptAt: Date | null;
  /** Set when the endpoint asked to be disabled: `410 Gone`. */
  disableReason: string | null;
}

function isSuccessStatus(status: number | null, rule: SuccessRule): boolean {
  return status !== null && (rule === "200" ? status === 200 : status >= 200 && status < 300);
}

/**
 * What one attempt's response means for its delivery: done, retried when, or given up.
 *
 * Only scheduled attempts follow the schedule. A manual attempt (a merchant's "retry now") can mark
 * its delivery succeeded but otherwise leaves status and schedule alone. A test delivery has exactly
 * one attempt, so it ends with it, either way. A `410 Gone` disables the endpoint only when it answers
 * a scheduled attempt: a person pressing "retry" or "send test" sees the 410 in the attempt log, and
 * disabling an endpoint is not what they asked for.
 */
export function attemptOutcome(input: AttemptOutcomeInput): AttemptOutcome {
  const { status, trigger } = input;
  const succeeded = isSuccessStatus(status, input.successRule);
  if (succeeded) return { succeeded, status: "succeeded", nextAttemptAt: null, disableReason: null };
  if (trigger === "test") return { succeeded, status: "failed", nextAttemptAt: null, disableReason: null };
  if (trigger === "manual") return { succeeded, status: null, nextAttemptAt: null, disableReason: null };
  if (status === 410) {
    return {
      succeeded,
      status: "failed",
      nextAttemptAt: null,
      disableReason: "the endpoint answered 410 Gone",
    };
  }
  const retryAfter =
    status === 429 || status === 503 ? parseRetryAfter(input.retryAfterHeader, input.now) : null;
  const next = nextAttemptAt(input.offsets, input.anchor, input.scheduledAt, retryAfter ?? undefined);
  return next
    ? { succeeded, status: "pending", nextAttemptAt: next, disableReason: null }
    : { succeeded, status: "failed", nextAttemptAt: null, disableReason: null };
}
