import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type ApiAnswer,
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  startTestHerald,
  useHerald,
} from "./support/fixture.ts";

function expectRefused(answer: ApiAnswer, field: string, detail?: RegExp) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ type: "urn:herald:problem:validation", status: 400, field });
  if (detail) expect(answer.body.detail).toMatch(detail);
}

describe("endpoints: every setting is stored, validated and used", () => {
  const scene = useHerald();
  let merchant: string;
  const register = (fields: Record<string, unknown>) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/endpoints`, { mode: "test", ...fields });

  beforeAll(async () => {
    const { herald } = scene;
    merchant = await createMerchant(herald);
  });

  it("fills defaults that follow the mode, and shows a whsec_ secret once", async () => {
    const { receiver } = scene;
    const test = await register({ url: `${receiver.url}/t` });
    expect(test.status).toBe(201);
    expect(test.body).toMatchObject({
      mode: "test",
      description: "",
      event_types: [],
      enabled: true,
      disabled_reason: null,
      retry_policy: "test",
      signature_scheme: "standard",
      headers: {},
      timeout_ms: 15000,
      metadata: {},
    });
    expect(test.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const live = await register({ url: "https://127.0.0.1/live", mode: "live" });
    expect(live.body).toMatchObject({ mode: "live", retry_policy: "live" });
  });

  it("stores every field as given and answers it on GET", async () => {
    const { herald, receiver } = scene;
    const fields = {
      url: `${receiver.url}/all?x=1`,
      description: "Orders service, EU",
      event_types: ["payment.succeeded", "refund.*"],
      retry_policy: { custom: [5, 60, 3600] },
      signature_scheme: "hmac-sha512-hex",
      headers: { "X-Tenant": "acme", authorization: "Bearer abc" },
      timeout_ms: 30000,
      metadata: { team: "payments", ünïcode: "✓" },
    };
    const created = await register(fields);
    expect(created.status).toBe(201);
    const got = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${created.body.id}`);
    expect(got.body).toEqual({
      ...fields,
      id: created.body.id,
      merchant_id: merchant,
      mode: "test",
      enabled: true,
      disabled_reason: null,
      rate_limit_per_second: null,
      ordering: "parallel",
      created_at: created.body.created_at,
      updated_at: created.body.updated_at,
    });
    expect(created.body.secret).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never answers a secret after registration, and stores it only encrypted", async () => {
    const { herald, receiver } = scene;
    const created = await register({ url: `${receiver.url}/s` });
    const secret: string = created.body.secret;
    const base64 = secret.slice("whsec_".length);
    const path = `/v1/merchants/${merchant}/endpoints/${created.body.id}`;
    const answers = [
      await herald.api("GET", path),
      await herald.api("GET", `/v1/merchants/${merchant}/endpoints?limit=100`),
      await herald.api("PATCH", path, { description: "renamed" }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain(base64);
      expect(text).not.toContain('"secret"');
    }
    const row = await herald.database.db
      .selectFrom("endpoints")
      .select(["secrets"])
      .where("id", "=", created.body.id)
      .executeTakeFirstOrThrow();
    const stored = JSON.stringify(row.secrets);
    expect(stored).not.toContain(base64);
    expect(stored).not.toContain(Buffer.from(base64, "base64").toString("hex"));
    expect(row.secrets).toHaveLength(1);
    expect(row.secrets[0]!.secret).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("signs with a secret the merchant supplies, in each scheme", async () => {
    const { herald, receiver } = scene;
    const own = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const standard = await register({
      url: `${receiver.url}/own-standard`,
      secret: own,
      event_types: ["own.std"],
    });
    expect(standard.body.secret).toBe(own);
    const hexSecret = "my-legacy-secret-0123456789";
    const hex = await register({
      url: `${receiver.url}/own-hex`,
      secret: hexSecret,
      signature_scheme: "hmac-sha256-hex",
      event_types: ["own.hex"],
    });
    expect(hex.body.secret).toBe(hexSecret);

    await emit(herald, merchant, { type: "own.std", data: { n: 1 } });
    await emit(herald, merchant, { type: "own.hex", data: { n: 2 } });
    const [first, second] = await eventually(async () => {
      const a = receiver.received.find((r) => r.path === "/own-standard");
      const b = receiver.received.find((r) => r.path === "/own-hex");
      return a && b ? [a, b] : undefined;
    });
    expect(new Webhook(own).verify(first!.body, first!.headers as Record<string, string>)).toMatchObject({
      type: "own.std",
    });
    expect(second!.headers["x-signature"]).toBe(
      createHmac("sha256", hexSecret).update(second!.body).digest("hex"),
    );

    expectRefused(await register({ url: receiver.url, secret: "whsec_c2hvcnQ=" }), "secret", /24 to 64/);
    expectRefused(await register({ url: receiver.url, secret: "not-whsec" }), "secret");
    expectRefused(
      await register({
        url: receiver.url,
        secret: "has space 0123456789",
        signature_scheme: "hmac-sha256-hex",
      }),
      "secret",
    );
    expectRefused(
      await register({ url: receiver.url, secret: "short", signature_scheme: "hmac-sha512-hex" }),
      "secret",
    );
  });

  it("generates a secret that fits each signature scheme, refuses unknown schemes and scheme changes", async () => {
    const { herald, receiver } = scene;
    for (const [scheme, pattern] of [
      ["standard", /^whsec_/],
      ["hmac-sha256-hex", /^[0-9a-f]{64}$/],
      ["hmac-sha512-hex", /^[0-9a-f]{64}$/],
    ] as const) {
      const created = await register({ url: receiver.url, signature_scheme: scheme });
      expect(created.body).toMatchObject({
        signature_scheme: scheme,
        secret: expect.stringMatching(pattern),
      });
    }
    expectRefused(
      await register({ url: receiver.url, signature_scheme: "md5" }),
      "signature_scheme",
      /standard/,
    );
    const endpoint = await createEndpoint(herald, merchant, { url: receiver.url });
    expectRefused(
      await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, {
        signature_scheme: "hmac-sha256-hex",
      }),
      "signature_scheme",
    );
  });

  it("toggles enabled with a reason; a disabled endpoint gets no deliveries", async () => {
    const { herald, receiver } = scene;
    const alone = await createMerchant(herald, "Toggle");
    const endpoint = await createEndpoint(herald, alone, { url: receiver.url });
    const path = `/v1/merchants/${alone}/endpoints/${endpoint.id}`;
    const fanOut = async () =>
      (
        await herald.api("POST", `/v1/merchants/${alone}/events`, {
          type: "toggle.check",
          mode: "test",
          data: {},
        })
      ).body.deliveries;

    const disabled = await herald.api("PATCH", path, {
      enabled: false,
      disabled_reason: "maintenance window",
    });
    expect(disabled.body).toMatchObject({ enabled: false, disabled_reason: "maintenance window" });
    expect(await fanOut()).toBe(0);
    const enabled = await herald.api("PATCH", path, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    expect(await fanOut()).toBe(1);
    expect((await herald.api("PATCH", path, { enabled: false })).body.disabled_reason).toBe(
      "disabled through the API",
    );
    expectRefused(
      await herald.api("PATCH", path, { enabled: true, disabled_reason: "x" }),
      "disabled_reason",
    );
    const createdDisabled = await register({ url: receiver.url, enabled: false });
    expect(createdDisabled.body).toMatchObject({
      enabled: false,
      disabled_reason: "disabled through the API",
    });
  });

  it("matches event_types exactly, by prefix wildcard and by *", async () => {
    const { herald, receiver } = scene;
    const exact = await createEndpoint(herald, merchant, {
      url: receiver.url,
      event_types: ["invoice.paid"],
    });
    const prefix = await createEndpoint(herald, merchant, { url: receiver.url, event_types: ["invoice.*"] });
    const star = await createEndpoint(herald, merchant, { url: receiver.url, event_types: ["*"] });
    const other = await createEndpoint(herald, merchant, {
      url: receiver.url,
      event_types: ["invoice.paid.late"],
    });
    const receivers = async (type: string) => {
      const event = await emit(herald, merchant, { type });
      const deliveries = await herald.api("GET", `/v1/merchants/${merchant}/deliveries?event_id=${event}`);
      const ids = new Set(deliveries.body.data.map((d: { endpoint_id: string }) => d.endpoint_id));
      return [exact, prefix, star, other].filter((e) => ids.has(e.id)).map((e) => e.event_types);
    };
    expect(await receivers("invoice.paid")).toEqual([["invoice.paid"], ["invoice.*"], ["*"]]);
    expect(await receivers("invoice.voided")).toEqual([["invoice.*"], ["*"]]);
    expect(await receivers("invoices.voided")).toEqual([["*"]]);
    expect(await receivers("invoice.paid.late")).toEqual([["invoice.*"], ["*"], ["invoice.paid.late"]]);
    for (const bad of ["invoice.", "*.paid", "invoice.**", "in voice", ""]) {
      expectRefused(
        await register({ url: receiver.url, event_types: [bad] }),
        bad ? "event_types" : "event_types.0",
      );
    }
  });

  it("takes named and custom retry policies, and refuses a custom one outside its bounds", async () => {
    const { receiver } = scene;
    for (const policy of ["live", "test", "exponential", { custom: [1] }, { custom: Array(50).fill(3600) }]) {
      const created = await register({ url: receiver.url, retry_policy: policy });
      expect(created.status).toBe(201);
      expect(created.body.retry_policy).toEqual(policy);
    }
    expectRefused(
      await register({ url: receiver.url, retry_policy: "hourly" }),
      "retry_policy",
      /live, test/,
    );
    expectRefused(await register({ url: receiver.url, retry_policy: { custom: [] } }), "retry_policy.custom");
    expectRefused(
      await register({ url: receiver.url, retry_policy: { custom: [0] } }),
      "retry_policy.custom.0",
    );
    expectRefused(
      await register({ url: receiver.url, retry_policy: { custom: [1.5] } }),
      "retry_policy.custom.0",
    );
    expectRefused(
      await register({ url: receiver.url, retry_policy: { custom: Array(51).fill(1) } }),
      "retry_policy.custom",
    );
    expectRefused(
      await register({ url: receiver.url, retry_policy: { custom: [7 * 86400, 1] } }),
      "retry_policy",
      /add up to at most 604800/,
    );
    expectRefused(
      await register({ url: receiver.url, retry_policy: { custom: [1], extra: 1 } }),
      "retry_policy.extra",
    );
  });

  it("sends custom headers and refuses Herald's own", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/headers`,
      event_types: ["headers.check"],
      headers: { "X-Api-Version": "2024-01", "x-empty": "" },
    });
    expect(endpoint.headers).toEqual({ "X-Api-Version": "2024-01", "x-empty": "" });
    await emit(herald, merchant, { type: "headers.check" });
    const request = await eventually(async () => receiver.received.find((r) => r.path === "/headers"));
    expect(request.headers["x-api-version"]).toBe("2024-01");
    expect(request.headers["x-empty"]).toBe("");

    for (const reserved of [
      "webhook-id",
      "Webhook-Signature",
      "content-type",
      "User-Agent",
      "host",
      "x-signature",
    ]) {
      expectRefused(
        await register({ url: receiver.url, headers: { [reserved]: "x" } }),
        "headers",
        /set by Herald/,
      );
    }
    expectRefused(await register({ url: receiver.url, headers: { "bad name": "x" } }), "headers.bad name");
    expectRefused(await register({ url: receiver.url, headers: { "x-a": "line\r\nbreak" } }), "headers.x-a");
    expectRefused(await register({ url: receiver.url, headers: { "x-a": 1 } }), "headers.x-a");
  });

  it("bounds timeout_ms to 1 000–30 000, description to 1 024 characters and metadata to 50 string pairs", async () => {
    const { receiver } = scene;
    for (const timeout of [1000, 30000])
      expect((await register({ url: receiver.url, timeout_ms: timeout })).status).toBe(201);
    for (const timeout of [999, 30001, 1500.5, "5000"])
      expectRefused(await register({ url: receiver.url, timeout_ms: timeout }), "timeout_ms");
    expect((await register({ url: receiver.url, description: "d".repeat(1024) })).status).toBe(201);
    expectRefused(await register({ url: receiver.url, description: "d".repeat(1025) }), "description");
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"]));
    expect((await register({ url: receiver.url, metadata: fifty })).status).toBe(201);
    expectRefused(await register({ url: receiver.url, metadata: { ...fifty, k50: "v" } }), "metadata");
    expectRefused(await register({ url: receiver.url, metadata: { n: 1 } }), "metadata.n");
    expectRefused(
      await register({ url: receiver.url, metadata: { ["k".repeat(65)]: "v" } }),
      `metadata.${"k".repeat(64)}…`,
    );
  });

  it("checks the URL: parses, at most 2 048 characters, https for live, http for test", async () => {
    const { herald, receiver } = scene;
    const long = `${receiver.url}/${"a".repeat(2048 - receiver.url.length - 1)}`;
    expect(long).toHaveLength(2048);
    expect((await register({ url: long })).status).toBe(201);
    expectRefused(await register({ url: `${long}a` }), "url");
    expectRefused(await register({ url: "not a url" }), "url");
    expectRefused(await register({ url: "/relative/path" }), "url", /absolute/);
    expectRefused(await register({ url: "ftp://127.0.0.1/x" }), "url", /http or https/);
    expectRefused(await register({ url: "http://127.0.0.1/x", mode: "live" }), "url", /https/);
    expectRefused(await register({ url: "https://user:pass@127.0.0.1/x" }), "url", /credentials/);
    expectRefused(await register({ url: "https://127.0.0.1/x#frag" }), "url", /fragment/);
    expectRefused(await register({ url: "https://127.0.0.1/x\n" }), "url");
    expect((await register({ url: "https://127.0.0.1/x", mode: "live" })).status).toBe(201);
    expect((await register({ url: "http://hooks.example.com/x", mode: "test" })).status).toBe(201);
    const live = await register({ url: "https://127.0.0.1/x", mode: "live" });
    expectRefused(
      await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${live.body.id}`, {
        url: "http://127.0.0.1/x",
      }),
      "url",
      /https/,
    );
  });

  it("refuses a literal private address outside HERALD_ALLOWED_CIDRS", async () => {
    expectRefused(await register({ url: "http://10.1.2.3/x" }), "url", /private/);
    expectRefused(await register({ url: "http://169.254.169.254/latest" }), "url");
    const strict = await startTestHerald({ HERALD_ALLOWED_CIDRS: "", HERALD_TEST_NO_DISPATCHER: "1" });
    try {
      const other = await createMerchant(strict);
      const registerStrict = (url: string) =>
        strict.api("POST", `/v1/merchants/${other}/endpoints`, { mode: "test", url });
      for (const url of [
        "http://127.0.0.1:8080/x",
        "http://0x7f000001/x",
        "http://2130706433/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://192.168.1.10/x",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
      ]) {
        expectRefused(await registerStrict(url), "url", /address/);
      }
      expect((await registerStrict("http://hooks.example.com/x")).status).toBe(201);
    } finally {
      await strict.stop();
    }
  });

  it("pages through the list with limit and next_cursor, newest first, without repeats", async () => {
    const { herald, receiver } = scene;
    const other = await createMerchant(herald, "Paged");
    const created: string[] = [];
    for (let i = 0; i < 5; i++)
      created.push((await createEndpoint(herald, other, { url: `${receiver.url}/${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ApiAnswer = await herald.api(
        "GET",
        `/v1/merchants/${other}/endpoints?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it("deletes: gone from GET and list, its pending deliveries cancelled, deleting again is 404", async () => {
    const { herald } = scene;
    const alone = await createMerchant(herald, "Deleting");
    const endpoint = await createEndpoint(herald, alone, {
      url: "http://127.0.0.1:9/closed",
      retry_policy: { custom: [3600] },
    });
    const event = await emit(herald, alone);
    const pending = await eventually(async () => {
      const d = await herald.api("GET", `/v1/merchants/${alone}/deliveries?event_id=${event}`);
      return d.body.data[0]?.attempt_count === 1 ? d.body.data[0] : undefined;
    });
    expect(pending).toMatchObject({ endpoint_id: endpoint.id, status: "pending" });
    const path = `/v1/merchants/${alone}/endpoints/${endpoint.id}`;
    expect((await herald.api("DELETE", path)).status).toBe(204);
    expect((await herald.api("GET", path)).status).toBe(404);
    const list = await herald.api("GET", `/v1/merchants/${alone}/endpoints`);
    expect(list.body.data).toEqual([]);
    const after = await herald.api("GET", `/v1/merchants/${alone}/deliveries/${pending.id}`);
    expect(after.body).toMatchObject({ status: "cancelled", next_attempt_at: null });
    expect((await herald.api("DELETE", path)).status).toBe(404);
  });
});
