import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inexactNumberPath } from "../apps/api/src/event-data.ts";

describe("a number is accepted exactly when JSON delivers the same value", () => {
  it("any double, written as JSON writes it or with its exponent spelled out, is accepted", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = JSON.stringify(x);
        expect(inexactNumberPath(`{"a":${text}}`)).toBeUndefined();
        expect(inexactNumberPath(`{"a":${x.toExponential()}}`)).toBeUndefined();
      }),
    );
  });

  it("an integer beyond 2^53 is refused unless the text JSON delivers for it is the same integer", () => {
    // 2^70 is a double, but JSON delivers it as 1.1805916207174113e+21: another number to a
    // receiver that reads big integers exactly, so it is refused too.
    const delivered = (n: bigint) => {
      const [mantissa = "", exponent = "0"] = String(Number(n)).split("e");
      const [whole = "", fraction = ""] = mantissa.split(".");
      return BigInt(whole + fraction) * 10n ** BigInt(Number(exponent) - fraction.length);
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 70n }), (n) => {
        const exact = delivered(n) === n;
        expect(inexactNumberPath(`{"x":[0,${n}]}`)).toBe(exact ? undefined : "x.1");
      }),
    );
  });

  it("2^70 and 2^53 + 2: delivered as other digits, or as the same", () => {
    expect(inexactNumberPath(`{"x":${2n ** 70n}}`)).toBe("x");
    expect(inexactNumberPath(`{"x":${2n ** 53n + 2n}}`)).toBeUndefined();
  });

  it("names the path through objects and arrays, keys with dots and quotes included", () => {
    expect(inexactNumberPath('{"a":{"b.c":[1,{"d\\"e":1e999}]}}')).toBe('a.b.c.1.d"e');
    expect(inexactNumberPath('{"s":"1e999 in a string","n":1e-999}')).toBe("n");
    expect(inexactNumberPath("[1,2,3e400]")).toBe("2");
  });
});
