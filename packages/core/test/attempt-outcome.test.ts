import { describe, expect, it } from "vitest";
import { type AttemptOutcomeInput, attemptOutcome } from "../src/outcome.ts";

const anchor = new Date("2026-03-01T10:00:00.000Z");
const at = (ms: number) => new Date(anchor.getTime() + ms);
// Attempts at +0, +1 s, +3 s.
const offsets = [0, 1000, 3000];

function outcome(fields: Partial<AttemptOutcomeInput>) {
  return attemptOutcome({
    trigger: "scheduled",
    status: 500,
    successRule: "2xx",
    offsets,
    anchor,
    scheduledAt: anchor,
    now: at(50),
    ...fields,
  });
}

describe("attemptOutcome: scheduled attempts", () => {
  it("a 2xx succeeds the delivery", () => {
    for (const status of [200, 201, 204, 299]) {
      expect(outcome({ status })).toEqual({
        succeeded: true,
        status: "succeeded",
        nextAttemptAt: null,
        disableReason: null,
      });
    }
  });

  it("with the exact-200 rule, 201 and 204 are failures retried on schedule", () => {
    for (const status of [201, 204]) {
      expect(outcome({ status, successRule: "200" })).toEqual({
        succeeded: false,
        status: "pending",
        nextAttemptAt: at(1000),
        disableReason: null,
      });
    }
    expect(outcome({ status: 200, successRule: "200" }).status).toBe("succeeded");
  });

  it("no response (null status) and 3xx are failures", () => {
    expect(outcome({ status: null }).nextAttemptAt).toEqual(at(1000));
    expect(outcome({ status: 302 }).succeeded).toBe(false);
  });

  it("the last slot's failure ends the delivery failed", () => {
    expect(outcome({ scheduledAt: at(3000), now: at(3050) })).toEqual({
      succeeded: false,
      status: "failed",
      nextAttemptAt: null,
      disableReason: null,
    });
  });

  it("410 Gone ends the delivery and disables the endpoint", () => {
    expect(outcome({ status: 410 })).toEqual({
      succeeded: false,
      status: "failed",
      nextAttemptAt: null,
      disableReason: "the endpoint answered 410 Gone",
    });
  });

  it("Retry-After on 429 and 503 moves the next attempt later, capped at the last slot", () => {
    expect(outcome({ status: 429, retryAfterHeader: "2" }).nextAttemptAt).toEqual(at(2050));
    expect(outcome({ status: 503, retryAfterHeader: at(2500).toUTCString() }).nextAttemptAt).toEqual(
      at(2000),
    );
    expect(outcome({ status: 503, retryAfterHeader: "3600" }).nextAttemptAt).toEqual(at(3000));
  });

  it("Retry-After on other statuses is ignored", () => {
    expect(outcome({ status: 500, retryAfterHeader: "2" }).nextAttemptAt).toEqual(at(1000));
  });
});

describe("attemptOutcome: manual and test attempts", () => {
  it("a failed manual attempt leaves status and schedule alone, even on 410", () => {
    for (const status of [500, 410, null]) {
      expect(outcome({ trigger: "manual", status })).toEqual({
        succeeded: false,
        status: null,
        nextAttemptAt: null,
        disableReason: null,
      });
    }
  });

  it("a successful manual attempt succeeds the delivery", () => {
    expect(outcome({ trigger: "manual", status: 200 }).status).toBe("succeeded");
  });

  it("a test delivery ends with its single attempt: succeeded or failed, never retried", () => {
    expect(outcome({ trigger: "test", status: 204 }).status).toBe("succeeded");
    for (const status of [500, 410, 429, null]) {
      expect(outcome({ trigger: "test", status, retryAfterHeader: "1" })).toEqual({
        succeeded: false,
        status: "failed",
        nextAttemptAt: null,
        disableReason: null,
      });
    }
  });
});
