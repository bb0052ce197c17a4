import { newId } from "@herald/core";
import { recordAttempts } from "@herald/db";
import { describe, expect, it } from "vitest";
import {
  type ApiAnswer,
  createEndpoint,
  createMerchant,
  eventually,
  queueDrainedFor,
  type TestHerald,
  useHerald,
} from "./support/fixture.ts";

/** Walks a list with `limit`, answering the ids in order and how many pages it took. */
async function walk(herald: TestHerald, path: string, limit: number, key?: string) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page: ApiAnswer = await herald.api(
      "GET",
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
      undefined,
      { key },
    );
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.data.length).toBeLessThanOrEqual(limit);
    ids.push(...page.body.data.map((item: { id: string }) => item.id));
    cursor = page.body.next_cursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

describe("merchants, their API keys, and paging through their lists", () => {
  const scene = useHerald({ receiver: () => ({ status: 500 }) });

  const newKey = async (merchant: string, mode: "live" | "test") => {
    const answer = await scene.herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode });
    expect(answer.status).toBe(201);
    return answer.body as { id: string; key: string; mode: string };
  };

  it("creates, reads, updates and lists merchants, three pages of two without repeats", async () => {
    const { herald } = scene;
    const created = await herald.api("POST", "/v1/merchants", {
      name: "Zoë's Café",
      metadata: { plan: "pro" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^mch_[0-9a-z]{26}$/),
      name: "Zoë's Café",
      metadata: { plan: "pro" },
      created_at: expect.any(String),
      updated_at: created.body.created_at,
    });
    const path = `/v1/merchants/${created.body.id}`;
    expect((await herald.api("GET", path)).body).toEqual(created.body);
    const updated = await herald.api("PATCH", path, { metadata: { plan: "enterprise" } });
    expect(updated.body).toMatchObject({ name: "Zoë's Café", metadata: { plan: "enterprise" } });
    expect(Date.parse(updated.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.updated_at));
    expect((await herald.api("PATCH", path, {})).status).toBe(400);
    expect((await herald.api("PATCH", path, { name: "" })).body.field).toBe("name");

    const more = [];
    for (let i = 0; i < 4; i++) more.push(await createMerchant(herald, `M${i}`));
    const { ids, pages } = await walk(herald, "/v1/merchants", 2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 5)).toEqual([...more.reverse(), created.body.id]);
    expect(pages).toBe(Math.ceil(ids.length / 2));
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it("issues keys shown once, lists them by prefix and last 4 in pages, and revokes at once", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const live = await newKey(merchant, "live");
    expect(live).toMatchObject({
      id: expect.stringMatching(/^key_/),
      mode: "live",
      key: expect.stringMatching(/^hk_live_/),
    });
    const keys = [
      live,
      await newKey(merchant, "test"),
      await newKey(merchant, "test"),
      await newKey(merchant, "live"),
    ];
    keys.push(await newKey(merchant, "test"));

    const listed = await herald.api("GET", `/v1/merchants/${merchant}/api-keys?limit=100`);
    expect(listed.body.data[4]).toEqual({
      id: live.id,
      merchant_id: merchant,
      mode: "live",
      prefix: "hk_live_",
      last4: live.key.slice(-4),
      created_at: expect.any(String),
      revoked_at: null,
    });
    for (const key of keys) expect(JSON.stringify(listed.body)).not.toContain(key.key.slice(8));
    const { ids, pages } = await walk(herald, `/v1/merchants/${merchant}/api-keys`, 2);
    expect(pages).toBe(3);
    expect(ids).toEqual(keys.map((k) => k.id).reverse());

    const endpoints = `/v1/merchants/${merchant}/endpoints`;
    expect((await herald.api("GET", endpoints, undefined, { key: live.key })).status).toBe(200);
    expect((await herald.api("DELETE", `/v1/merchants/${merchant}/api-keys/${live.id}`)).status).toBe(204);
    const refused = await herald.api("GET", endpoints, undefined, { key: live.key });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await herald.api("GET", endpoints, undefined, { key: keys[1]!.key })).status).toBe(200);

    const revokedAgain = await herald.api("DELETE", `/v1/merchants/${merchant}/api-keys/${live.id}`);
    expect(revokedAgain.status).toBe(204);
    const after = await herald.api("GET", `/v1/merchants/${merchant}/api-keys?limit=100`);
    expect(after.body.data.find((k: { id: string }) => k.id === live.id).revoked_at).toEqual(
      expect.any(String),
    );
    const other = await createMerchant(herald);
    expect((await herald.api("DELETE", `/v1/merchants/${other}/api-keys/${keys[1]!.id}`)).status).toBe(404);
    expect((await herald.api("DELETE", `/v1/merchants/${merchant}/api-keys/key_nope`)).status).toBe(404);
    expect(
      (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "prod" })).body.field,
    ).toBe("mode");
  });

  it("lets a test key see and write only test data, a live key only live, the admin key both", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const [live, test] = [await newKey(merchant, "live"), await newKey(merchant, "test")];
    const liveEndpoint = await createEndpoint(herald, merchant, {
      url: "https://127.0.0.1:9/l",
      mode: "live",
    });
    const testEndpoint = await createEndpoint(herald, merchant, {
      url: "http://127.0.0.1:9/t",
      mode: "test",
    });
    const emitAs = (key: string | undefined, mode?: string) =>
      herald.api("POST", `/v1/merchants/${merchant}/events`, { type: "mode.check", data: {}, mode }, { key });
    const liveEvent = (await emitAs(live.key)).body.id;
    const testEvent = (await emitAs(test.key)).body.id;
    const base = `/v1/merchants/${merchant}`;

    const sees = async (key: string | undefined, list: string) =>
      (await herald.api("GET", `${base}/${list}?limit=100`, undefined, { key })).body.data.map(
        (x: { id: string }) => x.id,
      );
    expect(await sees(test.key, "endpoints")).toEqual([testEndpoint.id]);
    expect(await sees(live.key, "endpoints")).toEqual([liveEndpoint.id]);
    expect(await sees(undefined, "endpoints")).toEqual([testEndpoint.id, liveEndpoint.id]);
    expect(await sees(test.key, "events")).toEqual([testEvent]);
    expect(await sees(live.key, "events")).toEqual([liveEvent]);
    expect(await sees(undefined, "events")).toEqual([testEvent, liveEvent]);
    const deliveries = async (key?: string) =>
      (await herald.api("GET", `${base}/deliveries?limit=100`, undefined, { key })).body.data.map(
        (d: { event_id: string }) => d.event_id,
      );
    expect(await deliveries(test.key)).toEqual([testEvent]);
    expect(await deliveries(live.key)).toEqual([liveEvent]);
    expect((await deliveries()).sort()).toEqual([testEvent, liveEvent].sort());

    expect(
      (await herald.api("GET", `${base}/endpoints/${liveEndpoint.id}`, undefined, { key: test.key })).status,
    ).toBe(404);
    expect(
      (await herald.api("GET", `${base}/events/${liveEvent}`, undefined, { key: test.key })).status,
    ).toBe(404);
    expect(
      (await herald.api("GET", `${base}/endpoints/${testEndpoint.id}`, undefined, { key: live.key })).status,
    ).toBe(404);
    const liveWrite = await herald.api(
      "POST",
      `${base}/endpoints`,
      { url: "https://127.0.0.1/x", mode: "live" },
      { key: test.key },
    );
    expect(liveWrite.status).toBe(403);
    expect(liveWrite.body).toMatchObject({ status: 403, field: "mode" });
    const defaulted = await herald.api(
      "POST",
      `${base}/endpoints`,
      { url: "http://127.0.0.1/x" },
      { key: test.key },
    );
    expect(defaulted.body.mode).toBe("test");
    expect((await emitAs(test.key, "live")).status).toBe(403);
    expect(
      (
        await herald.api(
          "PATCH",
          `${base}/endpoints/${liveEndpoint.id}`,
          { description: "x" },
          { key: test.key },
        )
      ).status,
    ).toBe(404);

    for (const [method, path] of [
      ["GET", "/v1/merchants"],
      ["GET", base],
      ["POST", `${base}/api-keys`],
      ["GET", `${base}/api-keys`],
      ["DELETE", base],
    ] as const) {
      const answer = await herald.api(method, path, method === "POST" ? { mode: "live" } : undefined, {
        key: live.key,
      });
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
  });

  it("pages through a merchant's deliveries the same way", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, {
      url: "http://127.0.0.1:9/closed",
      retry_policy: { custom: [3600] },
    });
    const events: string[] = [];
    for (let i = 0; i < 5; i++) {
      const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
        type: "page",
        mode: "test",
        data: {},
      });
      events.push(emitted.body.id);
    }
    const path = `/v1/merchants/${merchant}/deliveries`;
    const { ids, pages } = await walk(herald, path, 2);
    expect(pages).toBe(3);
    const all = await herald.api("GET", `${path}?limit=100`);
    expect(ids).toEqual(all.body.data.map((d: { id: string }) => d.id));
    expect(all.body.data.map((d: { event_id: string }) => d.event_id)).toEqual(events.reverse());
  });

  it("deletes softly: keys revoked, endpoints and pending deliveries stopped, events and attempts kept", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald, "Leaving");
    const key = await newKey(merchant, "test");
    const endpoint = await createEndpoint(herald, merchant, {
      url: receiver.url,
      retry_policy: { custom: [1, 1, 1, 1] },
    });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "bye",
      mode: "test",
      data: { a: 1 },
    });
    const delivery = await eventually(async () => {
      const row = await herald.database.db
        .selectFrom("deliveries")
        .selectAll()
        .where("event_id", "=", emitted.body.id)
        .executeTakeFirst();
      return row && row.attempt_count >= 1 ? row : undefined;
    });
    expect(delivery.status).toBe("pending");

    expect((await herald.api("DELETE", `/v1/merchants/${merchant}`)).status).toBe(204);
    expect((await herald.api("GET", `/v1/merchants/${merchant}`)).status).toBe(404);
    expect((await herald.api("DELETE", `/v1/merchants/${merchant}`)).status).toBe(404);
    expect((await herald.api("GET", `/v1/merchants/${merchant}/endpoints`)).status).toBe(404);
    expect(
      (await herald.api("POST", `/v1/merchants/${merchant}/events`, { type: "bye", data: {} })).status,
    ).toBe(404);
    expect(
      (await herald.api("GET", `/v1/merchants/${merchant}/endpoints`, undefined, { key: key.key })).status,
    ).toBe(401);
    const { ids } = await walk(herald, "/v1/merchants", 100);
    expect(ids).not.toContain(merchant);

    // Its next attempts' jobs come due and are dropped: once none is left, nothing more is sent.
    await queueDrainedFor(herald, delivery.id);
    const { db } = herald.database;
    const after = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("id", "=", delivery.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ status: "cancelled", next_attempt_at: null });
    const attempts = await db
      .selectFrom("attempts")
      .selectAll()
      .where("delivery_id", "=", delivery.id)
      .execute();
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    const { deleted_at: deletedAt } = await db
      .selectFrom("merchants")
      .select("deleted_at")
      .where("id", "=", merchant)
      .executeTakeFirstOrThrow();
    expect(attempts.filter((a) => a.started_at > deletedAt!)).toEqual([]);
    expect(
      await db.selectFrom("events").select("id").where("id", "=", emitted.body.id).execute(),
    ).toHaveLength(1);
    const row = await db
      .selectFrom("merchants")
      .selectAll()
      .where("id", "=", merchant)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
    const keys = await db
      .selectFrom("api_keys")
      .select("revoked_at")
      .where("merchant_id", "=", merchant)
      .execute();
    expect(keys.map((k) => k.revoked_at)).toEqual([expect.any(Date)]);
    const stored = await db
      .selectFrom("endpoints")
      .selectAll()
      .where("id", "=", endpoint.id)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ enabled: false, deleted_at: expect.any(Date) });
  });

  it("an attempt in flight while its merchant is deleted is stored, and its delivery stays cancelled", async () => {
    const { herald, receiver } = scene;
    const { db } = herald.database;
    const merchant = await createMerchant(herald, "Leaving mid-attempt");
    const endpoint = await createEndpoint(herald, merchant, {
      url: receiver.url,
      retry_policy: { custom: [3600] },
    });
    const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "bye",
      mode: "test",
      data: {},
    });
    const first = await eventually(() =>
      db.selectFrom("attempts").selectAll().where("endpoint_id", "=", endpoint.id).executeTakeFirst(),
    );
    expect((await herald.api("DELETE", `/v1/merchants/${merchant}`)).status).toBe(204);

    // The dispatcher records an attempt that was running meanwhile: a 500, next attempt in an hour.
    const at = new Date();
    const next = new Date(at.getTime() + 3_600_000);
    const { numbers } = await recordAttempts(
      db,
      [
        {
          ...first,
          id: newId("attempt", at.getTime()),
          scheduled_at: at,
          started_at: at,
          status: "pending",
          next_attempt_at: next,
          succeeded: false,
          disable_reason: null,
          endpoint_failing: true,
        },
      ],
      { hours: 72, ms: 72 * 3_600_000 },
    );
    expect([...numbers.values()]).toEqual([2]);
    const delivery = await db
      .selectFrom("deliveries")
      .select(["status", "next_attempt_at", "attempt_count"])
      .where("event_id", "=", emitted.body.id)
      .executeTakeFirstOrThrow();
    expect(delivery).toEqual({ status: "cancelled", next_attempt_at: null, attempt_count: 2 });
  });
});
