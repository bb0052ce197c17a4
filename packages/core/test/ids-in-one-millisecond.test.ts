import { describe, expect, it } from "vitest";
import { isId, newId } from "../src/ids.ts";

describe("ids made in one millisecond", () => {
  it("sort in the order they were made, stay well formed and differ", () => {
    const now = Date.now();
    const ids = Array.from({ length: 5000 }, () => newId("delivery", now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => isId("delivery", id))).toBe(true);
  });

  it("still begin with their own millisecond, so a later millisecond sorts after", () => {
    const now = Date.now();
    const first = newId("event", now);
    const later = newId("event", now + 1);
    const again = newId("event", now);
    expect(first < later).toBe(true);
    expect(again < later).toBe(true);
  });
});
