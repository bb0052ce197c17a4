import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  type Received,
  useHerald,
} from "./support/fixture.ts";

const verifies = (secret: string, request: Received) => {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

describe("rotating an endpoint's secret keeps receivers verifying through the grace period", () => {
  let merchant: string;
  const scene = useHerald();
  beforeAll(async () => {
    const { herald } = scene;
    merchant = await createMerchant(herald);
  });

  /** Emits an event of a type only this endpoint takes and answers the request the receiver got. */
  async function deliveredTo(path: string, type: string): Promise<Received> {
    const { herald, receiver } = scene;
    await emit(herald, merchant, { type });
    return eventually(async () =>
      receiver.received.find((r) => r.path === path && r.body.includes(`"${type}"`)),
    );
  }

  /** When the attempt that sent `request` started, as recorded once its answer is. */
  function startedAt(request: Received): Promise<number> {
    return eventually(async () => {
      const attempt = await scene.herald.database.db
        .selectFrom("attempts")
        .innerJoin("deliveries", "deliveries.id", "attempts.delivery_id")
        .select("attempts.started_at")
        .where("deliveries.event_id", "=", String(request.headers["webhook-id"]))
        .executeTakeFirst();
      return attempt?.started_at.getTime();
    });
  }

  const rotate = (endpointId: string, body?: unknown) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpointId}/rotate-secret`, body);

  it("signs with old and new secret during the grace period, then with the new one only", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/std`,
      event_types: ["std.*"],
    });
    const old = endpoint.secret;

    const rotated = await rotate(endpoint.id, { grace_period_hours: 24 });
    expect(rotated.status).toBe(200);
    const fresh: string = rotated.body.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    const expiresIn = Date.parse(rotated.body.previous_secrets_expire_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3600_000);

    const during = await deliveredTo("/std", "std.during");
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifies(old, during)).toBe(true);
    expect(verifies(fresh, during)).toBe(true);
    expect(verifies(`whsec_${Buffer.alloc(32, 1).toString("base64")}`, during)).toBe(false);

    const retired = await rotate(endpoint.id, { grace_period_hours: 0 });
    expect(retired.body.previous_secrets_expire_at).toBeNull();
    const newest: string = retired.body.secret;
    const after = await deliveredTo("/std", "std.after");
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verifies(newest, after)).toBe(true);
    expect(verifies(fresh, after)).toBe(false);
    expect(verifies(old, after)).toBe(false);
  });

  it("stops signing with the previous secret when a short grace period ends", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/short`,
      event_types: ["short.*"],
    });
    const rotated = await rotate(endpoint.id, { grace_period_hours: 0.001 });
    const graceEnds = Date.parse(rotated.body.previous_secrets_expire_at);
    expect(graceEnds - Date.now()).toBeLessThanOrEqual(3600);

    // Which secrets sign is decided when the attempt starts: compare its recorded start, not the
    // test's clock, with the end of the grace period.
    const during = await deliveredTo("/short", "short.during");
    expect(await startedAt(during)).toBeLessThan(graceEnds);
    expect(verifies(endpoint.secret, during)).toBe(true);
    expect(verifies(rotated.body.secret, during)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceEnds - Date.now() + 50)));
    const after = await deliveredTo("/short", "short.after");
    expect(await startedAt(after)).toBeGreaterThanOrEqual(graceEnds);
    expect(verifies(rotated.body.secret, after)).toBe(true);
    expect(verifies(endpoint.secret, after)).toBe(false);
  });

  it("puts exactly one hex signature in the legacy header during the grace period: the previous secret's", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/hex`,
      event_types: ["hex.*"],
      signature_scheme: "hmac-sha256-hex",
    });
    const supplied = "rotated-by-hand-0123456789abcdef";
    const rotated = await rotate(endpoint.id, { secret: supplied });
    expect(rotated.body.secret).toBe(supplied);
    const request = await deliveredTo("/hex", "hex.during");
    const sign = (secret: string) => createHmac("sha256", secret).update(request.body).digest("hex");
    expect(request.headers["x-signature"]).toBe(sign(endpoint.secret));
  });

  it("keeps every secret encrypted at rest, each with its expiry", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/rest` });
    const rotated = await rotate(endpoint.id);
    const row = await herald.database.db
      .selectFrom("endpoints")
      .select("secrets")
      .where("id", "=", endpoint.id)
      .executeTakeFirstOrThrow();
    const stored = JSON.stringify(row.secrets);
    for (const secret of [endpoint.secret, rotated.body.secret])
      expect(stored).not.toContain(secret.slice(6));
    expect(row.secrets.map((s) => s.expires_at)).toEqual([null, rotated.body.previous_secrets_expire_at]);
  });

  it("takes a grace period of 0 to 168 hours, 24 by default, and refuses anything else", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, { url: `${receiver.url}/bounds` });
    const hours = async (body?: unknown) => {
      const answer = await rotate(endpoint.id, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return (Date.parse(answer.body.previous_secrets_expire_at) - Date.now()) / 3600_000;
    };
    expect(await hours()).toBeCloseTo(24, 1);
    expect(await hours({})).toBeCloseTo(24, 1);
    expect(await hours({ grace_period_hours: 168 })).toBeCloseTo(168, 1);
    expect((await rotate(endpoint.id, { grace_period_hours: 0 })).body.previous_secrets_expire_at).toBeNull();
    for (const bad of [-1, 168.5, 1000, "24", null]) {
      const answer = await rotate(endpoint.id, { grace_period_hours: bad });
      expect(answer.status).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body.field).toBe("grace_period_hours");
    }
    const badSecret = await rotate(endpoint.id, { secret: "whsec_tooshort" });
    expect(badSecret.body).toMatchObject({ status: 400, field: "secret" });
  });
});
