import { nextAttemptAt, parseRetryAfter } from "./retry.ts";

export type SuccessRule = "2xx" | "200";

export interface AttemptOutcomeInput {
  trigger: "scheduled" | "manual" | "test";
  /** Null when no response came (the attempt has an error class instead). */
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
  /** The delivery's new status; null leaves it (a manual or test attempt that failed). */
  status: "succeeded" | "failed" | "pending" | null;
  nextAttemptAt: Date | null;
  /** Set when the endpoint asked to be disabled: `410 Gone`. */
  disableReason: string | null;
}

/** What one attempt's response means for its delivery: done, retried when, or given up. */
export function attemptOutcome(input: AttemptOutcomeInput): AttemptOutcome {
  const { status } = input;
  const succeeded =
    status !== null && (input.successRule === "200" ? status === 200 : status >= 200 && status < 300);
  if (succeeded) return { succeeded, status: "succeeded", nextAttemptAt: null, disableReason: null };
  if (status === 410) {
    return {
      succeeded,
      status: "failed",
      nextAttemptAt: null,
      disableReason: "the endpoint answered 410 Gone",
    };
  }
  // Off-schedule attempts (a manual retry, a test send) never move the schedule.
  if (input.trigger !== "scheduled")
    return { succeeded, status: null, nextAttemptAt: null, disableReason: null };
  const retryAfter =
    status === 429 || status === 503 ? parseRetryAfter(input.retryAfterHeader, input.now) : null;
  const next = nextAttemptAt(input.offsets, input.anchor, input.scheduledAt, retryAfter ?? undefined);
  return next
    ? { succeeded, status: "pending", nextAttemptAt: next, disableReason: null }
    : { succeeded, status: "failed", nextAttemptAt: null, disableReason: null };
}
