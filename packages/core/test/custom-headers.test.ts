import { customHeadersProblem, deliveryHeaders } from "@herald/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const check = (headers: Record<string, string>) => customHeadersProblem(headers, "x-signature");

/** The headers of a delivery to an endpoint with these custom headers. */
const sentWith = (custom: Record<string, string>) =>
  deliveryHeaders({
    scheme: "standard",
    secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    id: "msg_1",
    timestamp: 1,
    body: "{}",
    hexHeader: "x-signature",
    userAgent: "Herald",
    custom,
  });

describe("custom endpoint headers", () => {
  it("takes ordinary headers, authorization included", () => {
    expect(check({ "X-Tenant": "acme", Authorization: "Bearer abc", "x-empty": "" })).toBeUndefined();
  });

  it.each([
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "Transfer-Encoding",
    "TE",
    "Trailer",
    "Upgrade",
    "Expect",
    "Host",
    "Content-Length",
    "Content-Encoding",
    "content-type",
    "User-Agent",
    "Webhook-Id",
    "webhook-signature",
    "X-Signature",
  ])("refuses %s, which Herald or HTTP itself sets", (name) => {
    expect(check({ [name]: "1" })).toContain(`"${name}" is set by Herald or by HTTP itself`);
  });

  it.each([
    ["a CR LF in the value", { "X-A": "a\r\nX-Injected: 1" }, "characters HTTP does not allow"],
    ["a NUL in the value", { "X-A": "a\u0000b" }, "characters HTTP does not allow"],
    ["a character beyond Latin-1", { "X-A": "€" }, "characters HTTP does not allow"],
    ["a space in the name", { "X A": "1" }, "not an HTTP token"],
    ["a colon in the name", { "X:A": "1" }, "not an HTTP token"],
    ["an empty name", { "": "1" }, "not an HTTP token"],
    ["a leading space", { "X-A": " 1" }, "leading or trailing whitespace"],
    ["a trailing tab", { "X-A": "1\t" }, "leading or trailing whitespace"],
    [
      "names differing in case",
      { "X-Tenant": "a", "x-tenant": "b" },
      '"X-Tenant" and "x-tenant" are the same header',
    ],
  ])("refuses %s", (_, headers, problem) => {
    expect(check(headers)).toContain(problem);
  });

  it("a header named __proto__ or constructor is sent as a header like any other", () => {
    const custom = JSON.parse('{"__proto__": "a", "constructor": "b", "X-Ok": "c"}') as Record<
      string,
      string
    >;
    expect(check(custom)).toBeUndefined();
    const sent = sentWith(custom);
    expect(Object.entries(sent)).toEqual(
      expect.arrayContaining([
        ["__proto__", "a"],
        ["constructor", "b"],
        ["x-ok", "c"],
      ]),
    );
    expect(Object.getPrototypeOf(sent)).toBe(Object.prototype);
  });

  it("whatever it takes is sent exactly as stored, beside Herald's own headers", () => {
    const name = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/);
    const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 6 }), (headers) => {
        if (check(headers) !== undefined) return;
        const sent = sentWith(headers);
        for (const [n, v] of Object.entries(headers)) expect(sent[n.toLowerCase()]).toBe(v);
      }),
    );
  });
});
