import { sql } from "kysely";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";

/**
 * Failures injected between the statements of the emit transaction, with triggers in this test's
 * own database: whatever fails, an emit leaves either nothing or a fully scheduled event.
 */
describe("a failure in the middle of an emit leaves nothing behind", () => {
  const scene = useHerald();
  let jobTable: string;

  beforeAll(async () => {
    const { herald } = scene;
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM pgboss.queue WHERE name = 'attempts'
    `.execute(herald.database.db);
    jobTable = `pgboss.${rows[0]!.table_name}`;
  });
  afterEach(async () => {
    await run(`
      DROP TRIGGER IF EXISTS fail_deliveries ON deliveries;
      DROP TRIGGER IF EXISTS fail_jobs ON ${jobTable};
      DROP TRIGGER IF EXISTS fail_commit ON events;
      DROP FUNCTION IF EXISTS fail_now();
      DROP FUNCTION IF EXISTS stall();
    `);
  });

  const run = (statements: string) => scene.herald.database.pool.query(statements);

  async function failWith(trigger: string) {
    await run(`
      CREATE FUNCTION fail_now() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      ${trigger}
    `);
  }

  /** What the merchant has, and every attempt job whose delivery does not exist. */
  async function leftovers(merchant: string) {
    const { herald } = scene;
    const { rows } = await sql<{ events: number; deliveries: number; orphan_jobs: number }>`
      SELECT
        (SELECT count(*) FROM events WHERE merchant_id = ${merchant}) AS events,
        (SELECT count(*) FROM deliveries WHERE merchant_id = ${merchant}) AS deliveries,
        (SELECT count(*) FROM pgboss.job j WHERE j.name = 'attempts'
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = j.data->>'delivery_id')) AS orphan_jobs
    `.execute(herald.database.db);
    return rows[0];
  }

  async function merchantWithEndpoints() {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/one` });
    await createEndpoint(herald, merchant, { url: `${receiver.url}/two` });
    return merchant;
  }

  const emit = (merchant: string, type = "payment.succeeded") =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/events`, { type, mode: "test", data: { n: 1 } });

  function expectInternalProblem(answer: { status: number; headers: Headers; body: unknown }) {
    expect(answer.status).toBe(500);
    expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: "urn:herald:problem:internal", status: 500 });
  }

  it("the delivery insert fails: no event without deliveries", async () => {
    const merchant = await merchantWithEndpoints();
    await failWith(
      "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION fail_now();",
    );

    expectInternalProblem(await emit(merchant));
    expect(await leftovers(merchant)).toEqual({ events: 0, deliveries: 0, orphan_jobs: 0 });
  });

  it("the job insert fails after events and deliveries were written: both are rolled back", async () => {
    const merchant = await merchantWithEndpoints();
    await failWith(
      `CREATE TRIGGER fail_jobs BEFORE INSERT ON ${jobTable} FOR EACH ROW EXECUTE FUNCTION fail_now();`,
    );

    expectInternalProblem(await emit(merchant));
    expect(await leftovers(merchant)).toEqual({ events: 0, deliveries: 0, orphan_jobs: 0 });
  });

  it("the commit fails after every statement ran: nothing is kept", async () => {
    const merchant = await merchantWithEndpoints();
    await failWith(`
      CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_now();
    `);

    expectInternalProblem(await emit(merchant));
    expect(await leftovers(merchant)).toEqual({ events: 0, deliveries: 0, orphan_jobs: 0 });
  });

  it("the database session dies between statements: 503, and nothing is kept", async () => {
    const { herald } = scene;
    const merchant = await merchantWithEndpoints();
    await run(`
      CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$;
      CREATE TRIGGER fail_jobs BEFORE INSERT ON ${jobTable} FOR EACH ROW EXECUTE FUNCTION stall();
    `);

    const answer = emit(merchant);
    const stalled = await eventually(async () => {
      const { rows } = await sql<{ pid: number }>`
        SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'
      `.execute(herald.database.db);
      return rows[0]?.pid;
    });
    await sql`SELECT pg_terminate_backend(${stalled})`.execute(herald.database.db);

    const { status, headers, body } = await answer;
    expect(status).toBe(503);
    expect(headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ type: "urn:herald:problem:service_unavailable", status: 503 });
    expect(await leftovers(merchant)).toEqual({ events: 0, deliveries: 0, orphan_jobs: 0 });
  });

  it("one failing event fails its whole batch", async () => {
    const { herald } = scene;
    const merchant = await merchantWithEndpoints();
    await failWith(`
      CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries
        FOR EACH ROW WHEN (NEW.event_type = 'poison.pill') EXECUTE FUNCTION fail_now();
    `);
    const events = Array.from({ length: 100 }, (_, i) => ({
      type: i === 73 ? "poison.pill" : "payment.succeeded",
      mode: "test",
      data: { i },
    }));

    expectInternalProblem(await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, { events }));
    expect(await leftovers(merchant)).toEqual({ events: 0, deliveries: 0, orphan_jobs: 0 });
  });

  it("once the failure is gone, every pooled connection emits and delivers again", async () => {
    const { receiver } = scene;
    const merchant = await merchantWithEndpoints();
    await failWith(
      `CREATE TRIGGER fail_jobs BEFORE INSERT ON ${jobTable} FOR EACH ROW EXECUTE FUNCTION fail_now();`,
    );
    const failed = await Promise.all(Array.from({ length: 25 }, () => emit(merchant)));
    expect(failed.map((a) => a.status)).toEqual(Array(25).fill(500));
    await run(`DROP TRIGGER fail_jobs ON ${jobTable}`);

    // More emits than the pool has connections, so a connection left inside a failed transaction shows.
    const answers = await Promise.all(Array.from({ length: 25 }, () => emit(merchant)));

    expect(answers.map((a) => [a.status, a.body.deliveries])).toEqual(Array(25).fill([202, 2]));
    expect(await leftovers(merchant)).toEqual({ events: 25, deliveries: 50, orphan_jobs: 0 });
    const ids = new Set(answers.map((a) => a.body.id));
    await eventually(async () =>
      receiver.received.filter((r) => ids.has(r.headers["webhook-id"] as string)).length === 50
        ? true
        : undefined,
    );
  });
});
