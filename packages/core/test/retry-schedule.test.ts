import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { customPolicyProblem, nextAttemptAt, parseRetryAfter, scheduleOffsets } from "../src/retry.ts";

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/** 0, then 1 … n hours, in minutes, shifted by `shift` minutes. */
function hourly(n: number, shift: number): number[] {
  return Array.from({ length: n }, (_, i) => shift + (i + 1) * 60);
}

// The SPEC, written in minutes so it does not mirror the implementation's arithmetic.
const liveMinutes = [0, 3, 6, 9, 12, ...hourly(72, 12)];
const testMinutes = [0, ...hourly(72, 0)];

describe("scheduleOffsets: live", () => {
  const offsets = scheduleOffsets("live");

  it("has 77 attempts", () => {
    expect(offsets).toHaveLength(77);
  });

  it("tries every 3 minutes four times after the first attempt, then 12 min + 1 h … 12 min + 72 h", () => {
    expect(offsets).toEqual(liveMinutes.map((m) => m * minute));
  });

  it("has the exact milliseconds at its boundaries", () => {
    expect(offsets.slice(0, 7)).toEqual([0, 180_000, 360_000, 540_000, 720_000, 4_320_000, 7_920_000]);
    expect(offsets[76]).toBe(259_920_000); // 72 h 12 min
    expect(offsets.at(-1)).toBe(12 * minute + 72 * hour);
  });

  it("ignores the seed", () => {
    expect(scheduleOffsets("live", "dlv_anything")).toEqual(offsets);
  });
});

describe("scheduleOffsets: test", () => {
  const offsets = scheduleOffsets("test");

  it("has 73 attempts", () => {
    expect(offsets).toHaveLength(73);
  });

  it("tries hourly for 72 hours", () => {
    expect(offsets).toEqual(testMinutes.map((m) => m * minute));
    expect(offsets.slice(0, 3)).toEqual([0, 3_600_000, 7_200_000]);
    expect(offsets.at(-1)).toBe(259_200_000);
  });
});

describe("scheduleOffsets: exponential", () => {
  function checkExponential(offsets: number[]): void {
    // 1+2+…+512 min = 1023 min (±10 %: 920.7–1125.3 min) fits in 24 h; the next nominal delay, 1024 min, cannot.
    expect(offsets).toHaveLength(12);
    expect(offsets[0]).toBe(0);
    expect(offsets.at(-1)).toBe(day);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
    for (const offset of offsets.slice(0, -1)) expect(offset).toBeLessThan(day);
    for (let k = 0; k < offsets.length - 2; k++) {
      const delay = offsets[k + 1]! - offsets[k]!;
      const nominal = 60 * 2 ** k * second;
      expect(delay).toBeGreaterThanOrEqual(nominal * 0.9);
      expect(delay).toBeLessThanOrEqual(nominal * 1.1);
      expect(Number.isInteger(delay)).toBe(true);
    }
  }

  it("holds for the default seed", () => {
    checkExponential(scheduleOffsets("exponential"));
  });

  it("is strictly increasing, within 24 h except the last at exactly 24 h, each delay within ±10 % (any seed)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (seed) => {
        checkExponential(scheduleOffsets("exponential", seed));
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic: the same seed gives the same schedule", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (seed) => {
        expect(scheduleOffsets("exponential", seed)).toEqual(scheduleOffsets("exponential", seed));
      }),
    );
  });

  it("actually jitters: the delays are not exactly the nominal ones", () => {
    const offsets = scheduleOffsets("exponential", "dlv_01h2xcejqtf2nbrexx3vqjhp41");
    const nominal = [0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023].map((m) => m * minute);
    expect(offsets.slice(0, -1)).not.toEqual(nominal);
  });

  it("gives different jitter to different delivery ids", () => {
    const seeds = Array.from(
      { length: 300 },
      (_, i) => `dlv_01h2xcejqtf2nbrexx3vq${String(i).padStart(5, "0")}`,
    );
    const schedules = new Set(seeds.map((seed) => JSON.stringify(scheduleOffsets("exponential", seed))));
    expect(schedules.size).toBe(seeds.length);
  });

  it("gives different jitter to different seeds (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (a, b) => {
        fc.pre(a !== b);
        expect(scheduleOffsets("exponential", a)).not.toEqual(scheduleOffsets("exponential", b));
      }),
      { numRuns: 500 },
    );
  });

  it("gives different jitter to seeds that differ only outside the Basic Multilingual Plane", () => {
    // "😀" is \uD83D\uDE00 and "😁" is \uD83D\uDE01: they differ only in the low surrogate.
    expect(scheduleOffsets("exponential", "😁")).not.toEqual(scheduleOffsets("exponential", "😀"));
    expect(scheduleOffsets("exponential", "dlv_𝟘")).not.toEqual(scheduleOffsets("exponential", "dlv_𝟙"));
  });
});

describe("scheduleOffsets: custom", () => {
  it("accumulates the delays, in seconds, into offsets in milliseconds", () => {
    expect(scheduleOffsets({ custom: [1, 30, 3600] })).toEqual([0, 1_000, 31_000, 3_631_000]);
    expect(scheduleOffsets({ custom: [5] })).toEqual([0, 5_000]);
    expect(scheduleOffsets({ custom: [10, 10, 10, 10] })).toEqual([0, 10_000, 20_000, 30_000, 40_000]);
  });

  it("has one more attempt than delays, and ends at the sum of the delays", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12_096 }), { minLength: 1, maxLength: 50 }),
        (delays) => {
          const offsets = scheduleOffsets({ custom: delays });
          expect(offsets).toHaveLength(delays.length + 1);
          expect(offsets[0]).toBe(0);
          expect(offsets.at(-1)).toBe(delays.reduce((s, d) => s + d, 0) * 1000);
          delays.forEach((d, i) => {
            expect(offsets[i + 1]! - offsets[i]!).toBe(d * 1000);
          });
        },
      ),
    );
  });
});

describe("customPolicyProblem", () => {
  const countProblem = "must list 1 to 50 delays";
  const delayProblem = "each delay must be a whole number of seconds, at least 1";
  const totalProblem = "delays must add up to at most 604800 seconds (7 days)";

  it("accepts policies within bounds", () => {
    expect(customPolicyProblem([1])).toBeNull();
    expect(customPolicyProblem([60, 300, 3600])).toBeNull();
    expect(customPolicyProblem(Array.from({ length: 50 }, () => 1))).toBeNull();
    expect(customPolicyProblem([604_800])).toBeNull();
    expect(customPolicyProblem([302_400, 302_400])).toBeNull();
  });

  it("rejects no delays and more than 50", () => {
    expect(customPolicyProblem([])).toBe(countProblem);
    expect(customPolicyProblem(Array.from({ length: 51 }, () => 1))).toBe(countProblem);
  });

  it("rejects delays that are not whole seconds of at least 1", () => {
    for (const bad of [0, -1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(customPolicyProblem([60, bad])).toBe(delayProblem);
    }
  });

  it("rejects a total over 7 days", () => {
    expect(customPolicyProblem([604_801])).toBe(totalProblem);
    expect(customPolicyProblem([302_400, 302_401])).toBe(totalProblem);
    expect(customPolicyProblem(Array.from({ length: 50 }, () => 12_097))).toBe(totalProblem);
  });
});

describe("nextAttemptAt", () => {
  const anchor = new Date("2025-03-01T10:00:00.000Z");
  const at = (offset: number) => new Date(anchor.getTime() + offset);
  const live = scheduleOffsets("live");

  it("walks a whole live schedule when its result is fed back, then answers null", () => {
    const seen: Date[] = [];
    let previous: Date | null = anchor;
    while (previous !== null && seen.length < 200) {
      previous = nextAttemptAt(live, anchor, previous);
      if (previous) seen.push(previous);
    }
    expect(seen).toHaveLength(76);
    expect(seen.map((d) => d.toISOString())).toEqual(
      liveMinutes.slice(1).map((m) => at(m * minute).toISOString()),
    );
    expect(seen[0]!.toISOString()).toBe("2025-03-01T10:03:00.000Z");
    expect(seen[3]!.toISOString()).toBe("2025-03-01T10:12:00.000Z");
    expect(seen[4]!.toISOString()).toBe("2025-03-01T11:12:00.000Z");
    expect(seen.at(-1)!.toISOString()).toBe("2025-03-04T10:12:00.000Z");
  });

  it("walks a whole test schedule", () => {
    const offsets = scheduleOffsets("test");
    const seen: number[] = [];
    for (let previous = nextAttemptAt(offsets, anchor, anchor); previous; ) {
      seen.push(previous.getTime() - anchor.getTime());
      previous = nextAttemptAt(offsets, anchor, previous);
    }
    expect(seen).toEqual(testMinutes.slice(1).map((m) => m * minute));
  });

  it("takes the first slot strictly after previous", () => {
    expect(nextAttemptAt(live, anchor, at(3 * minute))).toEqual(at(6 * minute));
    expect(nextAttemptAt(live, anchor, at(3 * minute - 1))).toEqual(at(3 * minute));
    expect(nextAttemptAt(live, anchor, at(20 * minute))).toEqual(at(72 * minute));
    expect(nextAttemptAt(live, anchor, at(-hour))).toEqual(at(0));
  });

  it("lets Retry-After push the next attempt later", () => {
    expect(nextAttemptAt(live, anchor, anchor, at(5 * minute))).toEqual(at(5 * minute));
    expect(nextAttemptAt(live, anchor, at(12 * minute), at(2 * hour))).toEqual(at(2 * hour));
  });

  it("ignores a Retry-After earlier than or equal to the next slot", () => {
    expect(nextAttemptAt(live, anchor, anchor, at(1 * minute))).toEqual(at(3 * minute));
    expect(nextAttemptAt(live, anchor, anchor, at(3 * minute))).toEqual(at(3 * minute));
    expect(nextAttemptAt(live, anchor, anchor, at(-day))).toEqual(at(3 * minute));
  });

  it("skips the slots a Retry-After jumps over", () => {
    const pushed = nextAttemptAt(live, anchor, anchor, at(30 * minute));
    expect(pushed).toEqual(at(30 * minute));
    expect(nextAttemptAt(live, anchor, pushed!)).toEqual(at(72 * minute));
  });

  it("never lets Retry-After go past the last slot", () => {
    const last = at(live.at(-1)!);
    expect(nextAttemptAt(live, anchor, anchor, at(100 * hour))).toEqual(last);
    expect(nextAttemptAt(live, anchor, at(70 * hour), new Date("2099-01-01T00:00:00Z"))).toEqual(last);
    expect(nextAttemptAt(live, anchor, anchor, at(live.at(-1)! + 1))).toEqual(last);
    expect(nextAttemptAt(live, anchor, last)).toBeNull();
  });

  it("answers null once the schedule is exhausted, Retry-After or not", () => {
    const last = at(live.at(-1)!);
    expect(nextAttemptAt(live, anchor, last)).toBeNull();
    expect(nextAttemptAt(live, anchor, new Date(last.getTime() + 1))).toBeNull();
    expect(nextAttemptAt(live, anchor, last, at(200 * hour))).toBeNull();
    expect(nextAttemptAt([0], anchor, anchor)).toBeNull();
  });

  it("is always a slot or the Retry-After, within the schedule (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -hour, max: 80 * hour }),
        fc.option(fc.integer({ min: -hour, max: 100 * hour }), { nil: undefined }),
        (previousOffset, retryOffset) => {
          const next = nextAttemptAt(
            live,
            anchor,
            at(previousOffset),
            retryOffset === undefined ? undefined : at(retryOffset),
          );
          const lastOffset = live.at(-1)!;
          if (previousOffset >= lastOffset) {
            expect(next).toBeNull();
            return;
          }
          const slot = live.find((o) => o > previousOffset)!;
          const expected =
            retryOffset === undefined || retryOffset <= slot ? slot : Math.min(retryOffset, lastOffset);
          expect(next).toEqual(at(expected));
        },
      ),
    );
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2025-01-01T00:00:00.000Z");

  it("reads delay-seconds relative to now", () => {
    expect(parseRetryAfter("120", now)).toEqual(new Date("2025-01-01T00:02:00.000Z"));
    expect(parseRetryAfter("0", now)).toEqual(now);
    expect(parseRetryAfter("007", now)).toEqual(new Date("2025-01-01T00:00:07.000Z"));
    expect(parseRetryAfter(" 30 ", now)).toEqual(new Date("2025-01-01T00:00:30.000Z"));
    expect(parseRetryAfter("86400", now)).toEqual(new Date("2025-01-02T00:00:00.000Z"));
  });

  it("reads an HTTP date in all three RFC 9110 formats", () => {
    const expected = new Date("1994-11-06T08:49:37.000Z");
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toEqual(expected);
    expect(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)).toEqual(expected);
    expect(parseRetryAfter("Sun Nov  6 08:49:37 1994", now)).toEqual(expected);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:05:00 GMT", now)).toEqual(
      new Date("2025-01-01T00:05:00.000Z"),
    );
  });

  it("answers null when absent or empty", () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter("", now)).toBeNull();
    expect(parseRetryAfter("   ", now)).toBeNull();
  });

  it("answers null for garbage", () => {
    for (const garbage of [
      "soon",
      "abc",
      "now",
      "tomorrow",
      "10 seconds",
      "12abc",
      "a1",
      "1e3",
      "0x10",
      "Mon",
      "NaN",
    ]) {
      expect(parseRetryAfter(garbage, now), garbage).toBeNull();
    }
  });

  it("answers null for numbers that are not delay-seconds (fractions, negatives, several numbers)", () => {
    for (const garbage of ["1.5", "-1", "1 2"]) {
      expect(parseRetryAfter(garbage, now), garbage).toBeNull();
    }
  });

  it("never answers an Invalid Date for a huge delay-seconds", () => {
    for (const huge of ["9000000000000", "99999999999999999999"]) {
      const parsed = parseRetryAfter(huge, now);
      expect(parsed === null || Number.isFinite(parsed.getTime()), huge).toBe(true);
    }
  });

  it("never makes nextAttemptAt answer an Invalid Date, whatever the Retry-After", () => {
    const live = scheduleOffsets("live");
    const parsed = parseRetryAfter("99999999999999999999", now) ?? undefined;
    const next = nextAttemptAt(live, now, now, parsed);
    // Either the header is ignored (first retry slot) or it means "very late" (capped at the last slot).
    expect([now.getTime() + 3 * minute, now.getTime() + live.at(-1)!]).toContain(next?.getTime());
  });
});
