import { newId } from "@herald/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMerchant, startTestHerald, type TestHerald } from "./support/herald.ts";

// The relay routes are left out of the OpenAPI document (they are `herald listen`'s protocol), so
// the document-driven isolation and bad-input matrices do not reach them: this file does.
describe("relay sessions refuse whoever is not entitled and whatever is malformed", () => {
  let herald: TestHerald;
  let a: string;
  const keys: Record<"aLive" | "aTest" | "b", string> = {} as never;
  let session: { id: string; endpoint_id: string; secret: string };

  beforeAll(async () => {
    herald = await startTestHerald();
    a = await createMerchant(herald, "A");
    const b = await createMerchant(herald, "B");
    const key = async (merchant: string, mode: string) =>
      (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode })).body.key as string;
    keys.aLive = await key(a, "live");
    keys.aTest = await key(a, "test");
    keys.b = await key(b, "test");
    const created = await herald.api("POST", `/v1/merchants/${a}/relay-sessions`, undefined, {
      key: keys.aTest,
    });
    expect(created.status).toBe(201);
    session = created.body;
  });
  afterAll(() => herald.stop());

  const base = () => `/v1/merchants/${a}/relay-sessions`;
  const answer = { status: 200, duration_ms: 3 };

  it("creates test-mode sessions only, for the merchant's admin or test key", async () => {
    const endpoint = await herald.api("GET", `/v1/merchants/${a}/endpoints/${session.endpoint_id}`);
    expect(endpoint.body).toMatchObject({ mode: "test", url: `relay://${session.id}` });
    expect((await herald.api("POST", base(), {})).status).toBe(201);
    const live = await herald.api("POST", base(), {}, { key: keys.aLive });
    expect(live.status).toBe(403);
    expect((await herald.api("POST", base(), {}, { key: keys.b })).status).toBe(404);
    expect((await herald.api("POST", base(), {}, { key: null })).status).toBe(401);
  });

  it("hides a session's stream and answers from other merchants, live keys and missing keys", async () => {
    const stream = `${base()}/${session.id}/stream`;
    const reply = `${base()}/${session.id}/requests/${newId("relayRequest")}/answer`;
    for (const [key, status] of [
      [keys.b, 404],
      [keys.aLive, 404],
      [null, 401],
    ] as const) {
      const streamed = await herald.api("GET", stream, undefined, { key });
      expect(streamed.status, `stream with ${key}`).toBe(status);
      expect(JSON.stringify(streamed.body)).not.toContain(session.endpoint_id);
      expect((await herald.api("POST", reply, answer, { key })).status, `answer with ${key}`).toBe(status);
    }
    expect(
      (await herald.api("GET", `${base()}/rls_nope/stream`, undefined, { key: keys.aTest })).status,
    ).toBe(404);
    // An attempt nobody offered cannot be answered, even by the session's owner.
    expect((await herald.api("POST", reply, answer, { key: keys.aTest })).status).toBe(404);
  });

  it("refuses malformed input with a problem naming the field", async () => {
    const reply = `${base()}/${session.id}/requests/${newId("relayRequest")}/answer`;
    for (const [body, field] of [
      [{ ...answer, extra: 1 }, "extra"],
      [{ ...answer, status: 99 }, "status"],
      [{ ...answer, status: "200" }, "status"],
      [{ ...answer, body: "x".repeat(64 * 1024 + 1) }, "body"],
      [{ ...answer, error: "made_up" }, "error"],
      [{ status: 200 }, "duration_ms"],
    ] as const) {
      const refused = await herald.api("POST", reply, body, { key: keys.aTest });
      expect(refused.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(refused.body.field).toBe(field);
    }
    for (const [body, field] of [
      [{ event_types: ["not a type!"] }, "event_types"],
      [{ events: [] }, "events"],
    ] as const) {
      const refused = await herald.api("POST", base(), body, { key: keys.aTest });
      expect(refused.status).toBe(400);
      expect(refused.body.field).toBe(field);
    }
  });
});
