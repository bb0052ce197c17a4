import { isId } from "@herald/core";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase } from "./support/database.ts";

/**
 * herald.emit builds the delivered body in SQL, so its JSON must be JSON.stringify's to the byte:
 * a receiver verifies the signature over exactly these bytes, and an idempotency key is compared by
 * a hash over them.
 */
describe("herald.emit writes JSON exactly as JSON.stringify does", () => {
  let db: pg.Pool;

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
  });
  afterAll(async () => {
    await db.end();
  });

  async function compact(texts: string[]): Promise<string[]> {
    const { rows } = await db.query<{ out: string }>(
      "SELECT herald.json_compact(t::json) AS out FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i",
      [texts],
    );
    return rows.map((r) => r.out);
  }

  it("numbers come out as JavaScript prints them, whatever notation they came in", async () => {
    const numbers = [
      "0",
      "-0",
      "-0.0",
      "1.0",
      "100",
      "1E2",
      "2.50e3",
      "0.1",
      "0.000001",
      "0.0000001",
      "1e-7",
      "123e-20",
      "1e21",
      "1e20",
      "123456789012345678901",
      "999999999999999999999",
      "12345678901234567890123",
      "1e15",
      "1e16",
      "0.1e1",
      "5e-324",
      "1.7976931348623157e308",
      "2e-323",
      "9007199254740993",
      "47237931592500380",
      "4.7237931592500384e16",
      "1e400",
      "-1e400",
      "1e-400",
      "-1e-400",
      "0.30000000000000004",
      "-12.5e-3",
      "4.35",
      "1.005",
    ];
    const out = await compact(numbers.map((n) => `[${n}]`));
    expect(out).toEqual(numbers.map((n) => JSON.stringify(JSON.parse(`[${n}]`))));
  });

  it("any double, and any integer, reads and prints as in JavaScript", async () => {
    const number = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).map((n) => n * 10 ** 6),
      fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(number, { minLength: 200, maxLength: 200 }), async (numbers) => {
        const texts = numbers.map((n) => `[${String(n)}]`);
        expect(await compact(texts)).toEqual(texts.map((t) => JSON.stringify(JSON.parse(t))));
      }),
      { numRuns: 30 },
    );
  });

  it("keys keep their first place with their last value, integer-like keys first, as JSON.parse leaves them", async () => {
    const texts = [
      '{"b":1,"a":2,"b":3}',
      '{"z":1,"10":2,"2":3,"02":4,"-1":5,"4294967294":6,"4294967295":7,"1.5":8}',
      '{ "é" : "\\u00e9" , "\\u0041" : "\\ud83d\\ude00", "ctl": "\\u0001\\u001f\\u007f\\b\\f\\n\\r\\t/\\/" }',
      '{"s":"\u2028\u2029"}',
      '{"nested":{"a":[],"b":{},"c":[{}],"d":[true,false,null]}}',
      '  {\n\t"spaced" :\r\n [ 1 , 2 ] }  ',
    ];
    expect(await compact(texts)).toEqual(texts.map((t) => JSON.stringify(JSON.parse(t))));
  });

  it("any JSON object, written in any layout, compacts to JSON.stringify of its parse", async () => {
    const value = fc.dictionary(
      fc.string({ unit: "grapheme", maxLength: 6 }),
      fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }),
      { maxKeys: 6 },
    );
    const layout = fc.constantFrom<[number | string | undefined]>([undefined], [2], ["\t"], [" \r\n"]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(value, layout), { minLength: 20, maxLength: 20 }), async (cases) => {
        // PostgreSQL text cannot hold U+0000; herald.emit refuses such data (docs/outbox.md).
        const texts = cases
          .map(([v, [indent]]) => JSON.stringify(v, null, indent as never))
          .filter((t) => !t.includes("\\u0000"));
        expect(await compact(texts)).toEqual(texts.map((t) => JSON.stringify(JSON.parse(t))));
      }),
      { numRuns: 25 },
    );
  });

  it("ids are TypeIDs whose UUIDv7 carries the given millisecond", async () => {
    const at = new Date("2026-11-27T15:00:00.123Z");
    const { rows } = await db.query<{ id: string }>(
      "SELECT herald.new_id('evt', $1) AS id FROM generate_series(1, 200)",
      [at],
    );
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) {
      expect(isId("event", id), id).toBe(true);
      let value = 0n;
      for (const char of id.slice(4))
        value = value * 32n + BigInt("0123456789abcdefghjkmnpqrstvwxyz".indexOf(char));
      expect(Number(value >> 80n)).toBe(at.getTime());
      expect((value >> 76n) & 0xfn).toBe(7n);
      expect((value >> 62n) & 0x3n).toBe(2n);
    }
  });
});
