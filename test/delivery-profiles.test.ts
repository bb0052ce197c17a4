import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, emit, settledDelivery, useHerald } from "./support/fixture.ts";

/**
 * Delivery profiles end to end: the admin API that stores them, where they attach (merchant, then
 * endpoint), and what they change in a delivery (body shape, hex header, success rule, endpoint
 * defaults, https) — with the default profile still delivering exactly as before.
 */
describe("delivery profiles: one deployment, several dialects", () => {
  const scene = useHerald({
    // The default profile's header and success rule come from the environment, as before.
    env: { HERALD_SIGNATURE_HEADER: "X-Legacy-Signature", HERALD_RETRY_TIME_SCALE: "0.0002" },
    receiver: (request) => (request.path.startsWith("/accepted-202") ? { status: 202 } : { status: 200 }),
  });

  const profile = (body: unknown) => scene.herald.api("POST", "/v1/profiles", body);

  it("lists the built-in default first, made of the environment's settings, and refuses to change it", async () => {
    const { herald } = scene;
    const list = await herald.api("GET", "/v1/profiles");
    expect(list.status).toBe(200);
    expect(list.body.data[0]).toMatchObject({
      name: "default",
      builtin: true,
      signature_header: "x-legacy-signature",
      success_rule: "2xx",
      envelope: { type_field: "type", id: true, created_at: true, timestamp_format: "iso" },
      retry_policy: { live: "live", test: "test" },
      allow_http: { live: false, test: true },
      timeout_ms: 15000,
    });
    const patch = await herald.api("PATCH", "/v1/profiles/default", { success_rule: "200" });
    expect(patch.status).toBe(409);
    expect((await profile({ name: "default" })).status).toBe(409);
  });

  it("creates, reads, updates and lists a profile; missing fields take the default's values", async () => {
    const { herald } = scene;
    const created = await profile({
      name: "startbutton",
      envelope: { type_field: "event", id: false, created_at: false },
      signature_scheme: "hmac-sha512-hex",
      signature_header: "X-Startbutton-Signature",
      success_rule: "200",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      name: "startbutton",
      builtin: false,
      signature_header: "x-startbutton-signature",
      envelope: { type_field: "event", id: false, created_at: false, timestamp_format: "iso" },
      retry_policy: { live: "live", test: "test" },
      timeout_ms: 15000,
    });
    expect((await herald.api("GET", "/v1/profiles/startbutton")).body).toEqual(created.body);
    const updated = await herald.api("PATCH", "/v1/profiles/startbutton", {
      timeout_ms: 5000,
      retry_policy: { test: { custom: [1, 2] } },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({
      timeout_ms: 5000,
      retry_policy: { live: "live", test: { custom: [1, 2] } },
      success_rule: "200",
    });
    const names = (await herald.api("GET", "/v1/profiles")).body.data.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(["default", "startbutton"]));
    expect((await profile({ name: "startbutton" })).status).toBe(409);
    expect((await herald.api("GET", "/v1/profiles/nope")).status).toBe(404);
    expect((await herald.api("PATCH", "/v1/profiles/nope", { timeout_ms: 5000 })).status).toBe(404);
  });

  it("refuses bad profiles with a problem naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ name: "Upper" }, "name"],
      [{ name: "x", envelope: { type_field: "data" } }, "envelope.type_field"],
      [{ name: "x", envelope: { type_field: "has space" } }, "envelope.type_field"],
      [{ name: "x", envelope: { timestamp_format: "rfc822" } }, "envelope.timestamp_format"],
      [{ name: "x", signature_header: "content-type" }, "signature_header"],
      [{ name: "x", signature_header: "webhook-signature" }, "signature_header"],
      [{ name: "x", signature_header: "bad header" }, "signature_header"],
      [{ name: "x", success_rule: "3xx" }, "success_rule"],
      [{ name: "x", allow_http: { live: true } }, "allow_http.live"],
      [{ name: "x", retry_policy: { test: { custom: [7 * 24 * 3600, 1] } } }, "retry_policy.test"],
      [{ name: "x", timeout_ms: 10 }, "timeout_ms"],
      [{ name: "x", surprise: 1 }, "surprise"],
    ];
    for (const [body, field] of cases) {
      const answer = await profile(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body.field, JSON.stringify(answer.body)).toBe(field);
    }
  });

  it("lets only the admin key manage profiles", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald, "Keyholder");
    const key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "live" })).body.key;
    expect((await herald.api("GET", "/v1/profiles", undefined, { key })).status).toBe(403);
    expect((await herald.api("POST", "/v1/profiles", { name: "mine" }, { key })).status).toBe(403);
  });

  it("shapes the body, names the header and signs once per the merchant's profile; the default is unchanged", async () => {
    const { herald, receiver } = scene;
    await profile({
      name: "event-data",
      envelope: { type_field: "event", id: false, created_at: false },
      signature_scheme: "hmac-sha256-hex",
      signature_header: "x-event-signature",
    });
    const shaped = await createMerchant(herald, "Shaped");
    expect(
      (await herald.api("PATCH", `/v1/merchants/${shaped}`, { profile: "event-data" })).body.profile,
    ).toBe("event-data");
    const endpoint = await createEndpoint(herald, shaped, { url: `${receiver.url}/shaped` });
    // The profile's scheme is the endpoint's default.
    expect(endpoint.signature_scheme).toBe("hmac-sha256-hex");
    const id = await emit(herald, shaped, { type: "payment.success", data: { amount: 5000 } });
    const { delivery, attempts } = await settledDelivery(herald, id);
    expect(delivery.status).toBe("succeeded");
    const request = receiver.received.find((r) => r.path === "/shaped")!;
    expect(request.body).toBe('{"event":"payment.success","data":{"amount":5000}}');
    expect(request.headers["x-event-signature"]).toBe(
      createHmac("sha256", endpoint.secret).update(request.body).digest("hex"),
    );
    expect(request.headers["x-legacy-signature"]).toBeUndefined();
    // What was sent is what the attempt log shows; the event keeps its canonical body.
    expect(attempts[0]!.request_body).toBe(request.body);
    const shown = await herald.api("GET", `/v1/merchants/${shaped}/deliveries/${delivery.id}`);
    expect(shown.body.attempts[0].request.body).toBe(request.body);
    const event = await herald.api("GET", `/v1/merchants/${shaped}/events/${id}`);
    expect(event.body).toMatchObject({ id, type: "payment.success", data: { amount: 5000 } });

    const plain = await createMerchant(herald, "Plain");
    const legacy = await createEndpoint(herald, plain, {
      url: `${receiver.url}/plain`,
      signature_scheme: "hmac-sha256-hex",
    });
    const plainId = await emit(herald, plain, { type: "payment.success", data: { amount: 5000 } });
    const plainDelivery = await settledDelivery(herald, plainId);
    const plainRequest = receiver.received.find((r) => r.path === "/plain")!;
    expect(Object.keys(JSON.parse(plainRequest.body))).toEqual(["id", "type", "created_at", "data"]);
    expect(plainRequest.headers["x-legacy-signature"]).toBe(
      createHmac("sha256", legacy.secret).update(plainRequest.body).digest("hex"),
    );
    expect(plainDelivery.attempts[0]!.request_body).toBeNull();
  });

  it("applies the endpoint's own profile over its merchant's, and null falls back again", async () => {
    const { herald, receiver } = scene;
    // One retry, a minute later: 12 ms at this time scale.
    await profile({ name: "only-200", success_rule: "200", retry_policy: { test: { custom: [60] } } });
    const merchant = await createMerchant(herald, "Overrides");
    const strict = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/accepted-202/strict`,
      profile: "only-200",
      event_types: ["strict.*"],
    });
    expect(strict.profile).toBe("only-200");
    expect(strict.retry_policy).toEqual({ custom: [60] });
    await createEndpoint(herald, merchant, {
      url: `${receiver.url}/accepted-202/lenient`,
      event_types: ["lenient.*"],
    });
    // 202 fails under "only 200", and is a success under the default's "any 2xx".
    const strictDelivery = await settledDelivery(
      herald,
      await emit(herald, merchant, { type: "strict.one" }),
    );
    expect(strictDelivery.delivery.status).toBe("failed");
    expect(strictDelivery.attempts.map((a) => a.response_status)).toEqual([202, 202]);
    const lenientDelivery = await settledDelivery(
      herald,
      await emit(herald, merchant, { type: "lenient.one" }),
    );
    expect(lenientDelivery.delivery.status).toBe("succeeded");

    const cleared = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${strict.id}`, {
      profile: null,
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.profile).toBeUndefined();
    const after = await settledDelivery(herald, await emit(herald, merchant, { type: "strict.two" }));
    expect(after.delivery.status).toBe("succeeded");
  });

  it("refuses unknown profiles on merchants and endpoints, naming profile", async () => {
    const { herald, receiver } = scene;
    const bad = await herald.api("POST", "/v1/merchants", { name: "Bad", profile: "missing" });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("profile");
    const merchant = await createMerchant(herald, "Bad endpoint");
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: `${receiver.url}/x`,
      mode: "test",
      profile: "missing",
    });
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe("profile");
  });

  it("requires https in test mode where the profile says so, and keeps it required", async () => {
    const { herald, receiver } = scene;
    await profile({ name: "https-only", allow_http: { test: false } });
    const merchant = await createMerchant(herald, "Secure");
    const refused = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: `${receiver.url}/insecure`,
      mode: "test",
      profile: "https-only",
    });
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe("url");
    expect(refused.body.detail).toMatch(/https/);
    const https = await createEndpoint(herald, merchant, {
      url: "https://127.0.0.1:9/secure",
      profile: "https-only",
    });
    const toHttp = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${https.id}`, {
      url: `${receiver.url}/insecure`,
    });
    expect(toHttp.status).toBe(400);
    expect(toHttp.body.field).toBe("url");

    // An http endpoint may not be moved under the profile, by the endpoint or by its merchant.
    const http = await createEndpoint(herald, merchant, { url: `${receiver.url}/insecure` });
    const moved = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${http.id}`, {
      profile: "https-only",
    });
    expect(moved.status).toBe(400);
    expect(moved.body.field).toBe("profile");
    const merchantMoved = await herald.api("PATCH", `/v1/merchants/${merchant}`, { profile: "https-only" });
    expect(merchantMoved.status).toBe(409);
    expect(merchantMoved.body.field).toBe("profile");

    // Nor may a profile start requiring https while such endpoints use it.
    await profile({ name: "loosened" });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/loose`, profile: "loosened" });
    const tightened = await herald.api("PATCH", "/v1/profiles/loosened", { allow_http: { test: false } });
    expect(tightened.status).toBe(409);
    expect(tightened.body.field).toBe("allow_http.test");
  });

  it("reserves the profile's signature header from custom headers", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald, "Headers");
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: `${receiver.url}/h`,
      mode: "test",
      profile: "event-data",
      headers: { "X-Event-Signature": "forged" },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe("headers");
  });
});
