import pg from "pg";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedRows } from "./support/fixture.ts";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "./support/herald.ts";
import { Receiver } from "./support/receiver.ts";

/**
 * herald.emit called from an application's own transaction, over a plain `pg` connection the way
 * any language would call it (docs/outbox.md).
 */
describe("herald.emit emits inside the caller's transaction", () => {
  let herald: TestHerald;
  let receiver: Receiver;
  let app: pg.Pool;

  beforeAll(async () => {
    herald = await startTestHerald();
    receiver = await Receiver.start();
    app = new pg.Pool({ connectionString: herald.databaseUrl, max: 12 });
    await app.query("CREATE TABLE orders (id text PRIMARY KEY, amount integer NOT NULL)");
  });
  afterAll(async () => {
    await app.end();
    await herald.stop();
    await receiver.close();
  });

  /** The application's business change and its event, in one transaction that commits or not. */
  async function placeOrder(
    orderId: string,
    emit: { merchant: string; type?: string; data: string; key?: string | null },
    outcome: "COMMIT" | "ROLLBACK" = "COMMIT",
  ): Promise<string> {
    const client = await app.connect();
    try {
      await client.query("BEGIN");
      await client.query("INSERT INTO orders (id, amount) VALUES ($1, 2500)", [orderId]);
      const { rows } = await client.query<{ id: string }>(
        "SELECT herald.emit($1, 'test', $2, $3, $4) AS id",
        [emit.merchant, emit.type ?? "order.placed", emit.data, emit.key ?? null],
      );
      await client.query(outcome);
      return rows[0]!.id;
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  }

  it("a committed emit is delivered to the matching endpoint, signed, with the bytes the API would build", async () => {
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/orders`,
      event_types: ["order.*"],
    });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/other`, event_types: ["payment.*"] });
    const data =
      '{ "amount" : 2.50e3, "2": "two", "currency":"PKR", "note": "\\u00e9\\n\\"x\\"", "items":[1,[2,3.0]] }';

    const id = await placeOrder("order-commit", { merchant, data });

    const [request] = await receiver.waitFor(1);
    expect(request!.path).toBe("/orders");
    const { rows } = await app.query("SELECT body, created_at FROM events WHERE id = $1", [id]);
    const createdAt = (rows[0].created_at as Date).toISOString();
    expect(request!.body).toBe(
      JSON.stringify({ id, type: "order.placed", created_at: createdAt, data: JSON.parse(data) }),
    );
    expect(request!.body).toBe(rows[0].body);
    expect(request!.headers["webhook-id"]).toBe(id);
    expect(
      new Webhook(endpoint.secret).verify(request!.body, request!.headers as Record<string, string>),
    ).toEqual(JSON.parse(request!.body));
    expect(id).toMatch(/^evt_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
    expect(await storedRows(herald, { event: id })).toEqual({ events: 1, deliveries: 1, jobs: 1 });

    const listed = await herald.api("GET", `/v1/merchants/${merchant}/events/${id}`);
    expect(listed.body).toEqual({
      id,
      mode: "test",
      type: "order.placed",
      created_at: createdAt,
      data: JSON.parse(data),
    });
  });

  it("a rolled-back emit leaves no event, no delivery and no job, and nothing is sent", async () => {
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/rolled-back` });

    const id = await placeOrder("order-rollback", { merchant, data: '{"n":1}' }, "ROLLBACK");
    // A later committed emit to the same endpoint is delivered; the rolled-back one never is.
    const later = await placeOrder("order-after-rollback", { merchant, data: '{"n":2}' });

    await eventually(async () =>
      receiver.received.some((r) => r.headers["webhook-id"] === later) ? true : undefined,
    );
    expect(await storedRows(herald, { event: id })).toEqual({ events: 0, deliveries: 0, jobs: 0 });
    expect(
      receiver.received.filter((r) => r.path === "/rolled-back").map((r) => r.headers["webhook-id"]),
    ).toEqual([later]);
    expect(
      (await app.query("SELECT count(*)::int AS n FROM orders WHERE id = 'order-rollback'")).rows[0].n,
    ).toBe(0);
  });

  it("wakes the dispatchers when the transaction commits: not before, and not at all when it rolls back", async () => {
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/wake` });
    const listener = await app.connect();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.payload ?? ""));
    await listener.query("LISTEN herald_attempts");
    // A marker of our own on the channel: notifications arrive in commit order, so anything the
    // emit's transaction had sent by then would be heard before it.
    const mark = async (name: string) => {
      await app.query("SELECT pg_notify('herald_attempts', $1)", [name]);
      await eventually(async () => (heard.includes(name) ? true : undefined));
    };
    const client = await app.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT herald.emit($1, 'test', 'order.placed', '{}')", [merchant]);
      await mark("before-commit");
      expect(heard).toEqual(["before-commit"]);
      await client.query("COMMIT");
      await eventually(async () => (heard.length === 2 ? true : undefined));
      expect(heard).toEqual(["before-commit", ""]);

      await client.query("BEGIN");
      await client.query("SELECT herald.emit($1, 'test', 'order.placed', '{}')", [merchant]);
      await client.query("ROLLBACK");
      await mark("after-rollback");
      expect(heard).toEqual(["before-commit", "", "after-rollback"]);
    } finally {
      client.release();
      await listener.query("UNLISTEN *");
      listener.release();
    }
  });

  it("20 concurrent transactions with one idempotency key store one event; with their own keys, 20", async () => {
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/concurrent` });

    const same = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        placeOrder(`same-${i}`, { merchant, data: '{"n":1}', key: "order-42" }),
      ),
    );
    expect(new Set(same).size).toBe(1);
    expect(await storedRows(herald, { event: same[0]! })).toEqual({ events: 1, deliveries: 1, jobs: 1 });

    const own = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        placeOrder(`own-${i}`, { merchant, data: `{"n":${i}}`, key: `k-${i}` }),
      ),
    );
    expect(new Set(own).size).toBe(20);
    const { rows } = await app.query("SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1)", [
      own,
    ]);
    expect(rows[0].n).toBe(20);
    await eventually(async () =>
      receiver.received.filter((r) => r.path === "/concurrent").length >= 21 ? true : undefined,
    );
    expect(receiver.received.filter((r) => r.path === "/concurrent")).toHaveLength(21);
  });

  it("an idempotency key is shared with POST …/events: the same request replays, another one is refused", async () => {
    const merchant = await createMerchant(herald);
    const viaApi = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/events`,
      { type: "order.placed", mode: "test", data: { amount: 1, "10": true, "1": null } },
      { headers: { "idempotency-key": "shared-key" } },
    );
    expect(viaApi.status).toBe(202);

    const replayed = await placeOrder("replay", {
      merchant,
      data: '{"1": null, "amount": 1.0, "10": true}',
      key: "shared-key",
    });
    expect(replayed).toBe(viaApi.body.id);

    await expect(
      placeOrder("conflict", { merchant, data: '{"amount": 2}', key: "shared-key" }),
    ).rejects.toMatchObject({
      code: "23505",
      detail: "field: idempotency_key",
    });
  });

  it("keeps live and test keys apart: a live event's key neither replays nor blocks a test emit", async () => {
    const merchant = await createMerchant(herald);
    const live = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/events`,
      { type: "order.placed", mode: "live", data: { amount: 1 } },
      { headers: { "idempotency-key": "per-mode" } },
    );
    expect(live.status).toBe(202);
    const test = await placeOrder("per-mode", { merchant, data: '{"amount": 2}', key: "per-mode" });
    expect(test).not.toBe(live.body.id);
    expect(await placeOrder("per-mode-again", { merchant, data: '{"amount": 2}', key: "per-mode" })).toBe(
      test,
    );
  });

  it("refuses what POST …/events refuses, naming the argument", async () => {
    const merchant = await createMerchant(herald);
    const call = (args: unknown[]) => app.query("SELECT herald.emit($1, $2, $3, $4, $5)", args);
    const cases: [unknown[], string][] = [
      [[merchant, "staging", "a.b", "{}", null], "field: mode"],
      [[merchant, "test", "a..b", "{}", null], "field: type"],
      [[merchant, "test", "x".repeat(129), "{}", null], "field: type"],
      [[merchant, "test", "a.b", "[1]", null], "field: data"],
      [[merchant, "test", "a.b", "null", null], "field: data"],
      [[merchant, "test", "a.b", "{}", "tab\tkey"], "field: idempotency_key"],
      [["mch_00000000000000000000000000", "test", "a.b", "{}", null], "field: merchant_id"],
      [[merchant, "test", "a.b", JSON.stringify({ big: "x".repeat(256 * 1024) }), null], "field: data"],
    ];
    for (const [args, detail] of cases) {
      await expect(call(args), detail).rejects.toMatchObject({ code: "22023", detail });
    }
    await expect(call([merchant, "test", "a.b", "{not json", null])).rejects.toMatchObject({ code: "22P02" });
  });

  it("writes the same pg-boss job row as the API for the same endpoint", async () => {
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/jobs`,
      timeout_ms: 4500,
    });
    // Paused as after a 429, so the dispatcher running here leaves both jobs queued to be compared
    // (a job run is removed once its attempt is recorded).
    await app.query(
      "INSERT INTO endpoint_pauses (endpoint_id, paused_until) VALUES ($1, now() + interval '1 hour')",
      [endpoint.id],
    );
    const viaApi = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "order.placed",
      mode: "test",
      data: {},
    });
    const viaSql = await placeOrder("jobs", { merchant, data: "{}" });

    const job = async (eventId: string) => {
      const { rows } = await app.query(
        `SELECT j.*, d.created_at AS delivery_created_at
         FROM pgboss.job j JOIN deliveries d ON d.id = j.data->>'delivery_id'
         WHERE j.name = 'attempts' AND d.event_id = $1`,
        [eventId],
      );
      const {
        id,
        data,
        start_after,
        created_on,
        keep_until,
        started_on,
        completed_on,
        state,
        output,
        heartbeat_on,
        ...rest
      } = rows[0];
      expect(data).toEqual({
        delivery_id: expect.stringMatching(/^dlv_/),
        trigger: "scheduled",
        scheduled_at: start_after.toISOString(),
      });
      // Due when the delivery was stored.
      expect(rows[0].delivery_created_at).toEqual(start_after);
      expect(keep_until.getTime() - start_after.getTime()).toBe(30 * 24 * 3600 * 1000);
      return { ...rest, delivery_created_at: undefined };
    };
    expect(await job(viaSql)).toEqual(await job(viaApi.body.id));
  });

  it("a role granted only herald.emit can emit and can read or write nothing else", async () => {
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/role` });
    await app.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shop_app') THEN CREATE ROLE shop_app; END IF;
      END $$;
      GRANT USAGE ON SCHEMA herald TO shop_app;
      GRANT EXECUTE ON FUNCTION herald.emit(text, text, text, json, text) TO shop_app;
    `);
    const client = await app.connect();
    try {
      await client.query("SET ROLE shop_app");
      // A table of the caller's own named like Herald's cannot capture the write.
      await client.query("SET search_path = pg_temp, public");
      await client.query("CREATE TEMP TABLE events (id text, body text)");
      const { rows } = await client.query(
        "SELECT herald.emit(merchant_id => $1, mode => 'test', type => 'order.placed', data => '{}') AS id",
        [merchant],
      );
      expect(rows[0].id).toMatch(/^evt_/);
      await expect(client.query("SELECT count(*) FROM public.events")).rejects.toMatchObject({
        code: "42501",
      });
      await expect(client.query("SELECT herald.json_compact('{}')")).rejects.toMatchObject({ code: "42501" });
      await expect(
        client.query("UPDATE herald.settings SET require_known_types = false"),
      ).rejects.toMatchObject({
        code: "42501",
      });
      const id = rows[0].id;
      expect((await client.query("SELECT count(*)::int AS n FROM pg_temp.events")).rows[0].n).toBe(0);
      await client.query("RESET ROLE");
      expect(
        (await client.query("SELECT count(*)::int AS n FROM public.events WHERE id = $1", [id])).rows[0].n,
      ).toBe(1);
      await client.query("DROP TABLE pg_temp.events");
      await eventually(async () =>
        receiver.received.some((r) => r.headers["webhook-id"] === id) ? true : undefined,
      );
    } finally {
      await client.query("RESET ROLE").catch(() => {});
      client.release();
    }
  });
});
