import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type IdKind, idPrefixes, isId, newId } from "../src/ids.ts";

const crockford = "0123456789abcdefghjkmnpqrstvwxyz";
const kinds = Object.keys(idPrefixes) as IdKind[];

/** The 26 base32 characters after the prefix, as the 128-bit number they encode. */
function decode(id: string): bigint {
  const suffix = id.slice(id.indexOf("_") + 1);
  let value = 0n;
  for (const char of suffix) value = value * 32n + BigInt(crockford.indexOf(char));
  return value;
}

const timestampOf = (id: string) => Number(decode(id) >> 80n);
const uuidOf = (id: string) => decode(id).toString(16).padStart(32, "0");

describe("newId", () => {
  it("uses the documented prefix for every kind", () => {
    expect(idPrefixes).toEqual({
      merchant: "mch",
      apiKey: "key",
      endpoint: "ep",
      event: "evt",
      delivery: "dlv",
      attempt: "att",
      operation: "op",
      relaySession: "rls",
      relayRequest: "rlr",
    });
    for (const kind of kinds) {
      const id = newId(kind);
      expect(id.startsWith(`${idPrefixes[kind]}_`), id).toBe(true);
      expect(id).toHaveLength(idPrefixes[kind].length + 1 + 26);
    }
  });

  it("is <prefix>_ then 26 lowercase Crockford base32 characters, the first 0-7", () => {
    for (let i = 0; i < 200; i++) {
      expect(newId("event")).toMatch(/^evt_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
      expect(newId("endpoint")).toMatch(/^ep_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
    }
  });

  it("encodes now as the leading 48-bit millisecond timestamp", () => {
    expect(timestampOf(newId("event", 0))).toBe(0);
    expect(timestampOf(newId("event", 1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(timestampOf(newId("event", 2 ** 48 - 1))).toBe(2 ** 48 - 1);
    expect(newId("event", 0).slice(4, 14)).toBe("0000000000");
    expect(newId("event", 2 ** 48 - 1).slice(4, 14)).toBe("7zzzzzzzzz");
    expect(newId("delivery", 1_700_000_000_123).slice(4, 14)).toBe("01hf7yat3v");
  });

  it("defaults now to the current time", () => {
    const before = Date.now();
    const id = newId("delivery");
    const after = Date.now();
    expect(timestampOf(id)).toBeGreaterThanOrEqual(before);
    expect(timestampOf(id)).toBeLessThanOrEqual(after);
  });

  it("is a UUIDv7 (version 7, RFC 4122 variant)", () => {
    for (let i = 0; i < 100; i++) {
      const uuid = uuidOf(newId("attempt"));
      expect(uuid).toHaveLength(32);
      expect(uuid[12]).toBe("7");
      expect("89ab").toContain(uuid[16]);
    }
  });

  it("is unique for the same millisecond", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId("event", 1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });
});

describe("isId", () => {
  const valid = newId("event", 1_700_000_000_000);

  it("accepts ids newId makes, for their own kind only", () => {
    for (const kind of kinds) {
      const id = newId(kind);
      expect(isId(kind, id)).toBe(true);
      for (const other of kinds) if (other !== kind) expect(isId(other, id), `${other} ${id}`).toBe(false);
    }
    expect(isId("event", "evt_01hf7yat3v0000000000000000")).toBe(true);
    expect(isId("endpoint", "ep_7zzzzzzzzzzzzzzzzzzzzzzzzz")).toBe(true);
  });

  it("rejects a wrong or missing prefix", () => {
    const suffix = valid.slice(4);
    expect(isId("event", `dlv_${suffix}`)).toBe(false);
    expect(isId("event", `evnt_${suffix}`)).toBe(false);
    expect(isId("event", `EVT_${suffix}`)).toBe(false);
    expect(isId("event", `evt${suffix}`)).toBe(false);
    expect(isId("event", `evt-${suffix}`)).toBe(false);
    expect(isId("event", `_${suffix}`)).toBe(false);
    expect(isId("event", suffix)).toBe(false);
    expect(isId("event", `xevt_${suffix}`)).toBe(false);
  });

  it("rejects a wrong length", () => {
    expect(isId("event", valid.slice(0, -1))).toBe(false);
    expect(isId("event", `${valid}0`)).toBe(false);
    expect(isId("event", "evt_")).toBe(false);
    expect(isId("event", "")).toBe(false);
  });

  it("rejects characters outside lowercase Crockford base32", () => {
    const body = valid.slice(4, -1);
    for (const bad of ["i", "l", "o", "u", "I", "L", "O", "U", "A", "Z", "-", "_", "=", " ", "\n", "é"]) {
      expect(isId("event", `evt_${body}${bad}`), JSON.stringify(bad)).toBe(false);
    }
    expect(isId("event", `${valid}\n`)).toBe(false);
    expect(isId("event", ` ${valid}`)).toBe(false);
  });

  it("rejects uppercase", () => {
    expect(isId("event", "evt_01HF7YAT3V0000000000000000")).toBe(false);
    expect(isId("event", `evt_${valid.slice(4).toUpperCase()}`)).toBe(false);
  });

  it("rejects a first character above 7 (more than 128 bits)", () => {
    for (const first of ["8", "9", "a", "z"]) {
      expect(isId("event", `evt_${first}${valid.slice(5)}`), first).toBe(false);
    }
  });
});

describe("id sort order", () => {
  it("sorts lexicographically by creation time", () => {
    const times = [
      0,
      1,
      999,
      1_000,
      2 ** 40,
      1_699_999_999_999,
      1_700_000_000_000,
      1_700_000_000_001,
      2 ** 48 - 1,
    ];
    const ids = times.map((t) => newId("event", t));
    expect([...ids].reverse().sort()).toEqual(ids);
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });

  it("sorts ids made at increasing now in the same order (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { minLength: 2, maxLength: 30 }),
        fc.constantFrom(...kinds),
        (times, kind) => {
          const sorted = [...times].sort((a, b) => a - b);
          const ids = sorted.map((t) => newId(kind, t));
          const shuffled = [...ids].reverse();
          expect(shuffled.sort()).toEqual(ids);
        },
      ),
    );
  });

  it("sorts ids a millisecond apart (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 }), (t) => {
        expect(newId("delivery", t) < newId("delivery", t + 1)).toBe(true);
      }),
    );
  });
});
