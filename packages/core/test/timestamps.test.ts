import { parseTimestamp } from "@herald/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("timestamps Herald can use", () => {
  it.each([
    ["2026-11-27T15:00:00Z", "2026-11-27T15:00:00.000Z"],
    ["2026-11-27t15:00:00.123456789z", "2026-11-27T15:00:00.123Z"],
    ["2026-11-27T15:00:00+01:30", "2026-11-27T13:30:00.000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"],
    ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ])("%s is the instant %s", (text, iso) => {
    expect(parseTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each([
    ["a leap second", "2016-12-31T23:59:60Z"],
    ["year 0000", "0000-01-01T00:00:00Z"],
    ["before 1970", "1969-12-31T23:59:59.999Z"],
    ["before 1970 once the offset applies", "1970-01-01T00:30:00+01:00"],
    ["after 9999", "9999-12-31T23:30:00-01:00"],
    ["February 30", "2026-02-30T00:00:00Z"],
    ["February 29 of a common year", "2100-02-29T00:00:00Z"],
    ["hour 24", "2026-01-01T24:00:00Z"],
    ["month 13", "2026-13-01T00:00:00Z"],
    ["offset minutes 60", "2026-01-01T00:00:00+01:60"],
    ["no offset", "2026-01-01T00:00:00"],
    ["a date alone", "2026-01-01"],
    ["a six-digit year", "+02026-01-01T00:00:00Z"],
    ["trailing text", "2026-01-01T00:00:00Zjunk"],
  ])("%s is refused: %s", (_, text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });

  it("every instant from 1970 to 9999, written as toISOString writes it, reads back as itself", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
        const at = new Date(ms);
        expect(parseTimestamp(at.toISOString())?.getTime()).toBe(ms);
      }),
    );
  });

  it("whatever it accepts is a valid Date inside the range", () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 0, max: 9999 }),
          fc.integer({ min: 0, max: 14 }),
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 0, max: 61 }),
          fc.integer({ min: -1500, max: 1500 }),
        ),
        ([y, mo, d, h, s, offset]) => {
          const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");
          const zone = `${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
          const at = parseTimestamp(`${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(s)}:${pad(s)}${zone}`);
          if (at) {
            expect(Number.isNaN(at.getTime())).toBe(false);
            expect(at.getTime()).toBeGreaterThanOrEqual(0);
            expect(at.getUTCFullYear()).toBeLessThanOrEqual(9999);
          }
        },
      ),
    );
  });
});
