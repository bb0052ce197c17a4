import { describe, expect, it } from "vitest";
import { nominalOffsets, type RetryPolicy, scheduleOffsets } from "../src/retry.ts";

const minute = 60_000;

describe("nominalOffsets: the schedule as published", () => {
  it("doubles the exponential delay exactly from one minute, and ends at 24 hours", () => {
    const offsets = nominalOffsets("exponential");
    const delays = offsets.slice(1, -1).map((offset, i) => offset - offsets[i]!);
    expect(delays[0]).toBe(minute);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBe(2 * delays[i - 1]!);
    expect(offsets.at(-1)).toBe(24 * 60 * minute);
  });

  it("has as many attempts as any jittered exponential schedule around it", () => {
    // ±10 % jitter moves the 10th delay's end (1023 min) to at most 1125 min and the 11th's (2047) to
    // at least 1842: either side of 24 hours whatever the seed.
    for (const seed of ["", "dlv_a", "dlv_b"])
      expect(scheduleOffsets("exponential", seed)).toHaveLength(nominalOffsets("exponential").length);
  });

  it("is the schedule itself for the fixed policies", () => {
    const policies: RetryPolicy[] = ["live", "test", { custom: [5, 10] }];
    for (const policy of policies) expect(nominalOffsets(policy)).toEqual(scheduleOffsets(policy));
  });
});
