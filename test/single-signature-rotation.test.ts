import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

/**
 * Rotation for the hex schemes, whose receivers compare the header with ONE expected value: the
 * header always carries exactly one signature, the previous secret's until the switch (grace period
 * over, or the merchant's activation), the new one's after; each attempt, retries included, is
 * signed as of the moment it is sent.
 */
describe("single-signature rotation for the hex schemes", () => {
  /** Paths answering 503 for now: the receiver's outage. */
  const down = new Set<string>();
  const scene = useHerald({
    env: { HERALD_RETRY_TIME_SCALE: "0.0002" },
    receiver: (request) => ({ status: down.has(request.path) ? 503 : 200 }),
  });
  let merchant: string;
  beforeAll(async () => {
    merchant = await createMerchant(scene.herald, "Rotating");
  });

  const sign = (secret: string, body: string) => createHmac("sha512", secret).update(body).digest("hex");
  const api = (path: string, body?: unknown) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}${path}`, body);
  const requestsTo = (path: string) => scene.receiver.received.filter((r) => r.path === path);

  async function hexEndpoint(path: string) {
    return createEndpoint(scene.herald, merchant, {
      url: `${scene.receiver.url}${path}`,
      event_types: [`${path.slice(1)}.*`],
      signature_scheme: "hmac-sha512-hex",
    });
  }

  it("signs with the previous secret alone during the grace period, with the new one alone once activated", async () => {
    const { herald } = scene;
    const endpoint = await hexEndpoint("/activate");
    const rotated = await api(`/endpoints/${endpoint.id}/rotate-secret`, { grace_period_hours: 24 });
    expect(rotated.status).toBe(200);
    await settledDelivery(herald, await emit(herald, merchant, { type: "activate.during" }));
    const during = requestsTo("/activate").at(-1)!;
    expect(during.headers["x-signature"]).toBe(sign(endpoint.secret, during.body));

    const activated = await api(`/endpoints/${endpoint.id}/secret/activate`);
    expect(activated.status).toBe(200);
    expect(activated.body.retired).toBe(1);
    await settledDelivery(herald, await emit(herald, merchant, { type: "activate.after" }));
    const after = requestsTo("/activate").at(-1)!;
    expect(after.headers["x-signature"]).toBe(sign(rotated.body.secret, after.body));
    // Activating again retires nothing more.
    expect((await api(`/endpoints/${endpoint.id}/secret/activate`)).body.retired).toBe(0);
  });

  it("switches by itself when the grace period ends", async () => {
    const { herald } = scene;
    const endpoint = await hexEndpoint("/expiry");
    const rotated = await api(`/endpoints/${endpoint.id}/rotate-secret`, { grace_period_hours: 0.0003 });
    const switchAt = Date.parse(rotated.body.previous_secrets_expire_at);
    await settledDelivery(herald, await emit(herald, merchant, { type: "expiry.before" }));
    const first = requestsTo("/expiry").at(-1)!;
    // The attempt's own time decides which secret signs: one that arrived before the switch was
    // sent before it too (on a busy machine it may not have, and is then not judged here).
    if (first.at < switchAt) expect(first.headers["x-signature"]).toBe(sign(endpoint.secret, first.body));
    await eventually(async () => (Date.now() > switchAt + 50 ? true : undefined));
    await settledDelivery(herald, await emit(herald, merchant, { type: "expiry.after" }));
    const last = requestsTo("/expiry").at(-1)!;
    expect(last.headers["x-signature"]).toBe(sign(rotated.body.secret, last.body));
  });

  it("carries on each retry the signature of the moment it is sent", async () => {
    const { herald } = scene;
    const endpoint = await hexEndpoint("/retry");
    const rotated = await api(`/endpoints/${endpoint.id}/rotate-secret`, {});
    down.add("/retry");
    const id = await emit(herald, merchant, { type: "retry.across" });
    await attemptsRecorded(herald, id, 1);
    await api(`/endpoints/${endpoint.id}/secret/activate`);
    down.delete("/retry");
    const { delivery, attempts } = await settledDelivery(herald, id, 20_000);
    expect(delivery.status).toBe("succeeded");
    const [firstTry, ...retries] = requestsTo("/retry");
    expect(firstTry!.headers["x-signature"]).toBe(sign(endpoint.secret, firstTry!.body));
    expect(retries.at(-1)!.headers["x-signature"]).toBe(sign(rotated.body.secret, retries.at(-1)!.body));
    expect(attempts.at(-1)!.request_headers["x-signature"]).toBe(sign(rotated.body.secret, firstTry!.body));
    for (const request of requestsTo("/retry"))
      expect(request.headers["x-signature"]).toMatch(/^[0-9a-f]{128}$/);
  });

  it("keeps one standard signature per valid secret until activation, one after", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/standard`,
      event_types: ["standard.*"],
    });
    await api(`/endpoints/${endpoint.id}/rotate-secret`, {});
    await settledDelivery(herald, await emit(herald, merchant, { type: "standard.during" }));
    expect(String(requestsTo("/standard").at(-1)!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    await api(`/endpoints/${endpoint.id}/secret/activate`);
    await settledDelivery(herald, await emit(herald, merchant, { type: "standard.after" }));
    expect(String(requestsTo("/standard").at(-1)!.headers["webhook-signature"]).split(" ")).toHaveLength(1);
  });
});
