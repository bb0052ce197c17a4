import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { envelopeBody, shapedBody, standardEnvelope } from "../src/envelope.ts";
import { defaultProfile, effectiveProfile, profileProblem, profileUrlProblem } from "../src/profiles.ts";

const stored = envelopeBody({
  id: "evt_01jk3m5n7p9q1r3s5t7v9w1x3y",
  type: "payment.succeeded",
  created_at: "2025-03-01T10:00:00.123Z",
  data: { amount: 4200, currency: "EUR", nested: { z: 1, a: [1, "2", null] } },
});

const eventData = {
  type_field: "event",
  id: false,
  created_at: false,
  timestamp_format: "iso",
} as const;

describe("shapedBody: the bytes a profile's envelope sends", () => {
  it("sends the stored bytes untouched for the standard shape", () => {
    expect(shapedBody(stored, standardEnvelope)).toBe(stored);
  });

  it('sends {"event", "data"} for seeds 001 and 004, exactly JSON.stringify output', () => {
    expect(shapedBody(stored, eventData)).toBe(
      '{"event":"payment.succeeded","data":{"amount":4200,"currency":"EUR","nested":{"z":1,"a":[1,"2",null]}}}',
    );
  });

  it("writes created_at without milliseconds, or as unix seconds, when asked", () => {
    const seconds = shapedBody(stored, { ...standardEnvelope, timestamp_format: "iso-seconds" });
    expect(JSON.parse(seconds).created_at).toBe("2025-03-01T10:00:00Z");
    expect(Object.keys(JSON.parse(seconds))).toEqual(["id", "type", "created_at", "data"]);
    const unix = shapedBody(stored, { ...standardEnvelope, timestamp_format: "unix" });
    expect(unix).toContain('"created_at":1740823200,');
  });

  it("keeps id, type field, created_at, data in that order whatever is left out", () => {
    const body = shapedBody(stored, {
      type_field: "kind",
      id: false,
      created_at: true,
      timestamp_format: "iso",
    });
    expect(Object.keys(JSON.parse(body))).toEqual(["kind", "created_at", "data"]);
  });

  it("keeps a type field named like an Object.prototype key", () => {
    const body = shapedBody(stored, { ...eventData, type_field: "__proto__" });
    expect(body.startsWith('{"__proto__":"payment.succeeded","data":')).toBe(true);
  });

  it("survives a receiver's JSON.parse then JSON.stringify, data unchanged, for any data (property)", () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom("type", "event", "event_type"),
        fc.boolean(),
        (data, field, id) => {
          const body = envelopeBody({
            id: "evt_1",
            type: "a.b",
            created_at: "2025-01-01T00:00:00.000Z",
            data,
          });
          const shaped = shapedBody(body, {
            type_field: field,
            id,
            created_at: !id,
            timestamp_format: "unix",
          });
          expect(JSON.stringify(JSON.parse(shaped))).toBe(shaped);
          expect(JSON.stringify(JSON.parse(shaped).data)).toBe(JSON.stringify(JSON.parse(body).data));
          expect(JSON.parse(shaped)[field]).toBe("a.b");
        },
      ),
    );
  });
});

describe("delivery profiles", () => {
  const fallback = defaultProfile({ signatureHeader: "X-PayFlow-Signature", successStatus: "200" });

  it("makes the deployment's environment the default profile: today's behaviour", () => {
    expect(fallback).toMatchObject({
      name: "default",
      envelope: standardEnvelope,
      signature_scheme: "standard",
      signature_header: "x-payflow-signature",
      success_rule: "200",
      retry_policy: { live: "live", test: "test" },
      allow_http: { live: false, test: true },
      timeout_ms: 15000,
    });
  });

  it("uses a stored profile when one is named, the default otherwise", () => {
    const { name: _, ...settings } = { ...fallback, success_rule: "2xx" as const };
    expect(effectiveProfile("payflow", settings, fallback)).toMatchObject({
      name: "payflow",
      success_rule: "2xx",
    });
    expect(effectiveProfile(null, null, fallback)).toBe(fallback);
  });

  it("refuses a type field that collides, http for live, and a custom policy out of bounds, naming the field", () => {
    const { name: _, ...base } = fallback;
    expect(profileProblem(base)).toBeNull();
    expect(profileProblem({ ...base, envelope: { ...base.envelope, type_field: "data" } })?.field).toBe(
      "envelope.type_field",
    );
    expect(profileProblem({ ...base, allow_http: { live: true, test: true } })?.field).toBe(
      "allow_http.live",
    );
    expect(profileProblem({ ...base, retry_policy: { live: "live", test: { custom: [] } } })?.field).toBe(
      "retry_policy.test",
    );
  });

  it("refuses http URLs only where the profile says so", () => {
    const httpsOnly = { ...fallback, name: "payflow", allow_http: { live: false, test: false } };
    expect(profileUrlProblem(fallback, "http://example.com/hook", "test")).toBeNull();
    expect(profileUrlProblem(httpsOnly, "https://example.com/hook", "test")).toBeNull();
    expect(profileUrlProblem(httpsOnly, "http://example.com/hook", "test")).toMatch(/payflow profile/);
    expect(profileUrlProblem(httpsOnly, "HTTP://example.com/hook", "test")).not.toBeNull();
  });
});

describe("effectiveProfile", () => {
  it("fills a stored profile's missing settings from the default, so an older row still delivers", () => {
    const fallback = defaultProfile({ signatureHeader: "x-signature", successStatus: "2xx" });
    const profile = effectiveProfile(
      "old",
      { success_rule: "200", envelope: { type_field: "event" } },
      fallback,
    );
    expect(profile).toMatchObject({
      name: "old",
      success_rule: "200",
      signature_header: "x-signature",
      envelope: { type_field: "event", id: true, created_at: true, timestamp_format: "iso" },
    });
  });
});
