import { describe, expect, it } from "vitest";
import { previousSecretsExpireAt, rotatedSecrets } from "../src/secrets.ts";

describe("a rotation's rule: the fresh secret first, the valid ones until the grace period ends", () => {
  const now = Date.parse("2026-11-27T12:00:00.000Z");
  const at = (hours: number) => new Date(now + hours * 3_600_000).toISOString();

  it("keeps every valid secret until the end of the grace period, never beyond its own end", () => {
    const current = [
      { secret: "b", expires_at: null },
      { secret: "a", expires_at: at(2) },
      { secret: "gone", expires_at: at(-1) },
    ];
    const next = rotatedSecrets(current, { secret: "c", expires_at: null }, 24, now);
    expect(next).toEqual([
      { secret: "c", expires_at: null },
      { secret: "b", expires_at: at(24) },
      { secret: "a", expires_at: at(2) },
    ]);
    expect(previousSecretsExpireAt(next)).toBe(at(24));
  });

  it("with no grace period the previous secrets stop at once", () => {
    const next = rotatedSecrets(
      [{ secret: "a", expires_at: null }],
      { secret: "b", expires_at: null },
      0,
      now,
    );
    expect(next).toEqual([{ secret: "b", expires_at: null }]);
    expect(previousSecretsExpireAt(next)).toBeNull();
  });
});
