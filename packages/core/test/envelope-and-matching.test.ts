import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Envelope, envelopeBody } from "../src/envelope.ts";
import { isEventType, isEventTypeFilter, matchesEventType } from "../src/matching.ts";

const reserialise = (body: string) => JSON.stringify(JSON.parse(body));

const base = {
  id: "evt_01jk3m5n7p9q1r3s5t7v9w1x3y",
  type: "payment.succeeded",
  created_at: "2025-03-01T10:00:00.000Z",
};

describe("envelopeBody", () => {
  it("is exactly {id, type, created_at, data} in that order, with no whitespace", () => {
    expect(envelopeBody({ ...base, data: { amount: 4200, currency: "EUR" } })).toBe(
      '{"id":"evt_01jk3m5n7p9q1r3s5t7v9w1x3y","type":"payment.succeeded","created_at":"2025-03-01T10:00:00.000Z","data":{"amount":4200,"currency":"EUR"}}',
    );
  });

  it("keeps that key order and drops other properties whatever the input object looks like", () => {
    const shuffled = {
      data: [1, 2],
      extra: "dropped",
      created_at: "2025-03-01T10:00:00.000Z",
      type: "a.b",
      id: "evt_x",
    } as Envelope & { extra: string };
    expect(envelopeBody(shuffled)).toBe(
      '{"id":"evt_x","type":"a.b","created_at":"2025-03-01T10:00:00.000Z","data":[1,2]}',
    );
  });

  it("is byte-exact for unicode, emoji, escapes, nested arrays and large integers", () => {
    const data = {
      name: "Zoë Ünïcödé 日本語",
      emoji: "💸🎉👩‍👩‍👧",
      quote: 'say "hi"',
      backslash: "C:\\path\\to",
      newline: "line1\nline2\r\ttab",
      separators: "a\u2028b\u2029c",
      control: "\u0000\u001f\u007f",
      nested: [[1, [2, [3, []]]], { deep: [{ deeper: [null, true, false] }] }],
      max: Number.MAX_SAFE_INTEGER,
      min: Number.MIN_SAFE_INTEGER,
      float: 0.1,
      exp: 1e21,
      empty: {},
    };
    const expected =
      '{"id":"evt_01jk3m5n7p9q1r3s5t7v9w1x3y","type":"payment.succeeded","created_at":"2025-03-01T10:00:00.000Z","data":{' +
      '"name":"Zoë Ünïcödé 日本語",' +
      '"emoji":"💸🎉👩‍👩‍👧",' +
      '"quote":"say \\"hi\\"",' +
      '"backslash":"C:\\\\path\\\\to",' +
      '"newline":"line1\\nline2\\r\\ttab",' +
      '"separators":"a\u2028b\u2029c",' +
      '"control":"\\u0000\\u001f\u007f",' +
      '"nested":[[1,[2,[3,[]]]],{"deep":[{"deeper":[null,true,false]}]}],' +
      '"max":9007199254740991,' +
      '"min":-9007199254740991,' +
      '"float":0.1,' +
      '"exp":1e+21,' +
      '"empty":{}}}';
    const body = envelopeBody({ ...base, data });
    expect(body).toBe(expected);
    expect(Buffer.from(body, "utf8").equals(Buffer.from(expected, "utf8"))).toBe(true);
    expect(Buffer.byteLength(body, "utf8")).toBe(Buffer.byteLength(expected, "utf8"));
  });

  it("survives a receiver's JSON.parse then JSON.stringify unchanged (hand-picked cases)", () => {
    const cases: unknown[] = [
      null,
      0,
      -1,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      1.5e-7,
      123456789.125,
      "",
      '💸 "quoted" back\\slash\nnew\u2028line\u2029',
      "\ud800 lone surrogate \udfff",
      [[], [[]], [{}, [null]]],
      { "2": "b", "1": "a", z: 1, a: 2 },
      { __proto__key: 1, ["__proto__"]: { x: 1 } },
      { "": "empty key", é: "accent", "🔑": "emoji key" },
    ];
    for (const data of cases) {
      const body = envelopeBody({ ...base, data });
      expect(reserialise(body)).toBe(body);
      expect(JSON.parse(body)).toEqual({ ...base, data: JSON.parse(JSON.stringify(data)) });
    }
  });

  it("survives a receiver's JSON.parse then JSON.stringify unchanged (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "binary" }), fc.string({ unit: "binary" }), (data, id) => {
        const body = envelopeBody({ ...base, id, data });
        expect(reserialise(body)).toBe(body);
        expect(Object.keys(JSON.parse(body))).toEqual(["id", "type", "created_at", "data"]);
      }),
      { numRuns: 500 },
    );
  });
});

describe("matchesEventType", () => {
  it("matches every type when the filter list is empty", () => {
    expect(matchesEventType([], "payment.succeeded")).toBe(true);
    expect(matchesEventType([], "anything")).toBe(true);
  });

  it("matches every type with *", () => {
    expect(matchesEventType(["*"], "payment.succeeded")).toBe(true);
    expect(matchesEventType(["*"], "invoice")).toBe(true);
    expect(matchesEventType(["invoice.paid", "*"], "refund.created")).toBe(true);
  });

  it("matches an exact type, case-sensitively, and nothing else", () => {
    expect(matchesEventType(["payment.succeeded"], "payment.succeeded")).toBe(true);
    expect(matchesEventType(["payment.succeeded"], "payment.failed")).toBe(false);
    expect(matchesEventType(["payment.succeeded"], "payment")).toBe(false);
    expect(matchesEventType(["payment.succeeded"], "payment.succeeded.v2")).toBe(false);
    expect(matchesEventType(["payment"], "payment.succeeded")).toBe(false);
    expect(matchesEventType(["Payment.Succeeded"], "payment.succeeded")).toBe(false);
  });

  it("matches payment.* to payment.succeeded, not payments.x nor payment itself", () => {
    expect(matchesEventType(["payment.*"], "payment.succeeded")).toBe(true);
    expect(matchesEventType(["payment.*"], "payment.failed")).toBe(true);
    expect(matchesEventType(["payment.*"], "payments.x")).toBe(false);
    expect(matchesEventType(["payment.*"], "payment")).toBe(false);
    expect(matchesEventType(["payment.*"], "paymentx.succeeded")).toBe(false);
    expect(matchesEventType(["payment.*"], "invoice.payment.succeeded")).toBe(false);
    expect(matchesEventType(["Payment.*"], "payment.succeeded")).toBe(false);
  });

  it("treats x.* as a prefix wildcard, including deeper types", () => {
    expect(matchesEventType(["payment.*"], "payment.intent.created")).toBe(true);
    expect(matchesEventType(["payment.intent.*"], "payment.intent.created")).toBe(true);
    expect(matchesEventType(["payment.intent.*"], "payment.succeeded")).toBe(false);
  });

  it("does not treat a * that is not after a dot as a wildcard", () => {
    expect(matchesEventType(["payment*"], "payments")).toBe(false);
    expect(matchesEventType(["payment*"], "payment.succeeded")).toBe(false);
    expect(matchesEventType(["*.succeeded"], "payment.succeeded")).toBe(false);
  });

  it("matches when any filter of several matches", () => {
    const filters = ["invoice.paid", "payment.*"];
    expect(matchesEventType(filters, "invoice.paid")).toBe(true);
    expect(matchesEventType(filters, "payment.refunded")).toBe(true);
    expect(matchesEventType(filters, "invoice.created")).toBe(false);
    expect(matchesEventType(filters, "customer.created")).toBe(false);
  });
});

describe("isEventType", () => {
  it("accepts dotted names of [a-zA-Z0-9_-] up to 128 characters", () => {
    for (const type of [
      "payment",
      "payment.succeeded",
      "a.b.c.d",
      "Payment_Intent-2.created",
      "x",
      "9",
      "_",
      "-.-",
    ]) {
      expect(isEventType(type), type).toBe(true);
    }
    expect(isEventType("a".repeat(128))).toBe(true);
    expect(isEventType(`${"a".repeat(63)}.${"b".repeat(64)}`)).toBe(true);
  });

  it("rejects empty segments, other characters, wildcards and more than 128 characters", () => {
    for (const type of [
      "",
      ".",
      "a.",
      ".a",
      "a..b",
      "a b",
      " a",
      "a\n",
      "a/b",
      "a:b",
      "é",
      "*",
      "payment.*",
      "payment*",
      "a".repeat(129),
      `${"a".repeat(64)}.${"b".repeat(64)}`,
    ]) {
      expect(isEventType(type), JSON.stringify(type)).toBe(false);
    }
  });
});

describe("isEventTypeFilter", () => {
  it("accepts *, event types and event types followed by .*", () => {
    for (const filter of ["*", "payment", "payment.succeeded", "payment.*", "payment.intent.*", "a-b_c.*"]) {
      expect(isEventTypeFilter(filter), filter).toBe(true);
    }
    expect(isEventTypeFilter(`${"a".repeat(128)}.*`)).toBe(true);
  });

  it("rejects misplaced or doubled wildcards and invalid types", () => {
    for (const filter of [
      "",
      ".*",
      "*.*",
      "**",
      "*.payment",
      "payment.*.created",
      "payment*",
      "payment.**",
      "payment..*",
      "payment.",
      " payment.*",
      "payment.* ",
      "pay ment.*",
      `${"a".repeat(129)}.*`,
    ]) {
      expect(isEventTypeFilter(filter), JSON.stringify(filter)).toBe(false);
    }
  });

  it("accepts every valid event type as a filter, and its x.* form (property)", () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9_-]{1,10}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const type = segments.join(".");
        expect(isEventType(type)).toBe(true);
        expect(isEventTypeFilter(type)).toBe(true);
        expect(isEventTypeFilter(`${type}.*`)).toBe(true);
        expect(matchesEventType([`${type}.*`], `${type}.child`)).toBe(true);
        expect(matchesEventType([`${type}.*`], type)).toBe(false);
        expect(matchesEventType([type], type)).toBe(true);
      }),
    );
  });
});
