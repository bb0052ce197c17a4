import { beforeAll, describe, expect, it } from "vitest";
import { type ApiAnswer, createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";
import {
  acceptedBodies,
  type DocumentedOperation,
  documentedOperations,
  openApiDocument,
} from "./support/openapi.ts";

/** A refusal is then about who asks, never about what was sent; live mode, which A's test key may not write. */
const validBodies = acceptedBodies("live");

/** The event-type catalog is the installation's, read by every key: no merchant's data to keep apart. */
const sharedRead = (operation: DocumentedOperation) =>
  !operation.path.includes("{mid}") && !operation.adminOnly;

describe("tenant isolation: every keyed route refuses whoever is not entitled, and leaks nothing", () => {
  const scene = useHerald();
  let operations: DocumentedOperation[];
  /** Merchant A's resources, live mode, by path parameter name. */
  const a: Record<string, string> = {};
  /** Everything of A's that no one else may see: ids, secrets, a payload marker. */
  let aSecrets: string[];
  /** What A's test key may not see: its live-mode data. */
  let aLiveOnly: string[];
  const keys: Record<"aLive" | "aTest" | "aRevoked" | "bLive", string> = {} as never;
  const liveMarker = `live-payload-${Date.now()}`;

  beforeAll(async () => {
    const { herald, receiver } = scene;
    operations = documentedOperations(await openApiDocument(herald)).filter((operation) => operation.keyed);

    a.mid = await createMerchant(herald, "Merchant A");
    // Profiles are the deployment's, admin-only: in the matrix for the refusals.
    a.name = (await herald.api("POST", "/v1/profiles", { name: "isolation" })).body.name;
    const newKey = async (merchant: string, mode: string) =>
      (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode })).body;
    const live = await newKey(a.mid, "live");
    a.kid = live.id;
    keys.aLive = live.key;
    keys.aTest = (await newKey(a.mid, "test")).key;
    const revoked = await newKey(a.mid, "live");
    keys.aRevoked = revoked.key;
    await herald.api("DELETE", `/v1/merchants/${a.mid}/api-keys/${revoked.id}`);
    const b = await createMerchant(herald, "Merchant B");
    keys.bLive = (await newKey(b, "live")).key;
    await createEndpoint(herald, b, { url: `${receiver.url}/b` });

    // A live endpoint that always fails, so its deliveries fail and can be recovered.
    const liveEndpoint = await createEndpoint(herald, a.mid, {
      url: "https://127.0.0.1:9/a-live",
      mode: "live",
      description: liveMarker,
      retry_policy: { custom: [1] },
    });
    a.eid = liveEndpoint.id;
    // The provider's operator endpoint (admin only), which hears of A's exhausted live delivery.
    a.oeid = (
      await herald.api("POST", "/v1/operator-endpoints", { url: "https://127.0.0.1:9/operator" })
    ).body.id;
    const testEndpoint = await createEndpoint(herald, a.mid, { url: `${receiver.url}/a-test`, mode: "test" });
    const emitted = await herald.api("POST", `/v1/merchants/${a.mid}/events`, {
      type: "payment.succeeded",
      mode: "live",
      data: { marker: liveMarker },
    });
    a.evid = emitted.body.id;
    const testEvent = await herald.api("POST", `/v1/merchants/${a.mid}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data: { marker: "test-payload" },
    });
    const delivery = await eventually(async () => {
      const list = await herald.api("GET", `/v1/merchants/${a.mid}/deliveries?event_id=${a.evid}`);
      return list.body.data[0]?.status === "failed" ? list.body.data[0] : undefined;
    });
    a.did = delivery.id;
    a.odid = await eventually(
      async () => (await herald.api("GET", `/v1/operator-endpoints/${a.oeid}/deliveries`)).body.data[0]?.id,
    );
    const recovery = await herald.api("POST", `/v1/merchants/${a.mid}/endpoints/${a.eid}/recover`, {
      since: new Date(Date.now() - 3600_000).toISOString(),
    });
    a.opid = recovery.body.id;
    a["event-types.name"] = (
      await herald.api("POST", "/v1/event-types", { name: "isolation.type" })
    ).body.name;

    aLiveOnly = [a.eid!, a.evid!, a.did!, a.opid!, liveMarker, liveEndpoint.secret.slice(6)];
    aSecrets = [...aLiveOnly, a.mid!, a.kid!, testEndpoint.id, testEvent.body.id, "test-payload"];
  });

  function urlOf(operation: DocumentedOperation): string {
    // `{name}` names a profile under /v1/profiles and an event type under /v1/event-types.
    const resource = operation.path.split("/")[2];
    return operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const id = a[`${resource}.${name}`] ?? a[name];
      if (!id) throw new Error(`no id of merchant A for {${name}}: add one to the matrix setup`);
      return id;
    });
  }

  async function call(operation: DocumentedOperation, authorization: string | null): Promise<ApiAnswer> {
    const { herald } = scene;
    const body = validBodies[`${operation.method} ${operation.path}`] ?? {};
    const sendsBody = operation.method === "POST" || operation.method === "PATCH";
    return herald.api(operation.method, urlOf(operation), sendsBody ? body : undefined, {
      key: null,
      headers: authorization === null ? {} : { authorization },
    });
  }

  function expectRefusal(answer: ApiAnswer, status: number, hidden: string[], where: string) {
    expect(answer.status, `${where}: ${JSON.stringify(answer.body)}`).toBe(status);
    expect(answer.headers.get("content-type"), where).toMatch(/^application\/problem\+json/);
    expect(answer.body, where).toMatchObject({ type: expect.any(String), title: expect.any(String), status });
    const text = JSON.stringify(answer.body) + [...answer.headers.values()].join(" ");
    for (const value of hidden) expect(text, `${where} leaks ${value}`).not.toContain(value);
  }

  it("walks a matrix of every documented keyed route", () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const paths = operations.map((o) => `${o.method} ${o.path}`);
    expect(paths).toContain("GET /v1/merchants/{mid}/deliveries/{did}");
    expect(paths).toContain("POST /v1/merchants/{mid}/endpoints/{eid}/rotate-secret");
    expect(operations.filter((o) => o.adminOnly).map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining([
        "POST /v1/merchants",
        "GET /v1/merchants/{mid}",
        "DELETE /v1/merchants/{mid}/api-keys/{kid}",
      ]),
    );
  });

  it("answers the matrix's ids to the admin and to A's live key, so every refusal below is about the caller", async () => {
    const { herald } = scene;
    for (const operation of operations.filter((o) => o.method === "GET")) {
      const admin = await call(operation, `Bearer ${herald.adminKey}`);
      expect(admin.status, `${operation.path} as admin`).toBe(200);
      if (operation.adminOnly) continue;
      const own = await call(operation, `Bearer ${keys.aLive}`);
      expect(own.status, `${operation.path} with A's live key`).toBe(200);
    }
  });

  it("answers 401 without a key, with a malformed key and with a revoked key", async () => {
    const { herald } = scene;
    const malformed = [
      "",
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNzd29yZA==",
      "Bearer not-a-key",
      `Bearer ${herald.adminKey}x`,
      `Bearer ${herald.adminKey.slice(0, -1)}`,
      `Bearer ${keys.aLive}x`,
      `Bearer ${keys.aLive} ${keys.aLive}`,
      `Bearer hk_live_${"A".repeat(4000)}`,
      `Token ${keys.aLive}`,
    ];
    for (const operation of operations) {
      const where = `${operation.method} ${operation.path}`;
      expectRefusal(await call(operation, null), 401, aSecrets, `${where} without a key`);
      for (const header of malformed)
        expectRefusal(await call(operation, header), 401, aSecrets, `${where} with "${header.slice(0, 30)}"`);
      expectRefusal(await call(operation, `Bearer ${keys.aRevoked}`), 401, aSecrets, `${where} revoked`);
    }
  });

  it("answers another merchant's key 404 on A's routes, 403 on admin-only ones", async () => {
    for (const operation of operations) {
      const where = `${operation.method} ${operation.path} with B's key`;
      if (sharedRead(operation)) {
        const answer = await call(operation, `Bearer ${keys.bLive}`);
        expect(answer.status, where).toBe(200);
        for (const value of aSecrets)
          expect(JSON.stringify(answer.body), `${where} leaks ${value}`).not.toContain(value);
        continue;
      }
      expectRefusal(
        await call(operation, `Bearer ${keys.bLive}`),
        operation.adminOnly ? 403 : 404,
        aSecrets,
        where,
      );
    }
  });

  it("keeps A's test key off A's live data: 404 for live resources, 403 for live writes and admin routes", async () => {
    for (const operation of operations) {
      const where = `${operation.method} ${operation.path} with A's test key`;
      const answer = await call(operation, `Bearer ${keys.aTest}`);
      const resourceParams = [...operation.path.matchAll(/\{(\w+)\}/g)].filter((m) => m[1] !== "mid");
      if (operation.adminOnly) expectRefusal(answer, 403, aLiveOnly, where);
      else if (sharedRead(operation)) expect(answer.status, where).toBe(200);
      else if (resourceParams.length > 0) expectRefusal(answer, 404, aLiveOnly, where);
      else if (operation.method === "GET") {
        expect(answer.status, where).toBe(200);
        for (const value of aLiveOnly)
          expect(JSON.stringify(answer.body), `${where} leaks ${value}`).not.toContain(value);
      } else expectRefusal(answer, 403, aLiveOnly, where);
    }
  });

  it("left A's data as it was: nothing above wrote anything", async () => {
    const { herald } = scene;
    const endpoint = await herald.api("GET", `/v1/merchants/${a.mid}/endpoints/${a.eid}`);
    expect(endpoint.body).toMatchObject({ description: liveMarker, enabled: true });
    const merchant = await herald.api("GET", `/v1/merchants/${a.mid}`);
    expect(merchant.body.name).toBe("Merchant A");
    const endpoints = await herald.api("GET", `/v1/merchants/${a.mid}/endpoints?limit=100`);
    expect(endpoints.body.data).toHaveLength(2);
    const events = await herald.api("GET", `/v1/merchants/${a.mid}/events?limit=100`);
    expect(events.body.data).toHaveLength(2);
    expect(
      (await herald.api("GET", `/v1/merchants/${a.mid}/endpoints`, undefined, { key: keys.aLive })).status,
    ).toBe(200);
  });
});
