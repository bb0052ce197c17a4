import { attemptJob, composableJobInsert, startQueue } from "@herald/db";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { merchantWithEndpoint, useHerald } from "./support/fixture.ts";

/**
 * An emit's events, deliveries and attempt jobs are written by one statement (pg-boss's insert
 * nested in it), so the write is one round trip and commits atomically without BEGIN/COMMIT.
 */
describe("an emit writes its events, deliveries and jobs in one statement", () => {
  const scene = useHerald({ dispatcher: false });
  let boss: PgBoss;
  beforeAll(async () => {
    boss = await startQueue(scene.herald.databaseUrl, { supervise: false, max: 1 });
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
  });

  it("pg-boss's insert for the attempt queue can be nested, and is its plain INSERT", async () => {
    const job = attemptJob("dlv_x", { id: "ep_x", timeout_ms: 5000 }, "scheduled", new Date());
    const nested = await composableJobInsert(boss, [job]);
    expect(nested).toBeDefined();
    expect(nested!.before).toMatch(/^\s*INSERT INTO pgboss\./);
    expect(JSON.parse(nested!.payload)[0]).toMatchObject({ groupId: "ep_x", data: { delivery_id: "dlv_x" } });
  });

  it("events, deliveries and jobs of an emit share one transaction, and a replay adds no job", async () => {
    const { herald, receiver } = scene;
    const { merchant } = await merchantWithEndpoint(herald, { url: receiver.url });
    const body = { type: "payment.succeeded", mode: "test", data: { n: 1 } };
    const headers = { "idempotency-key": "one-statement" };
    const first = await herald.api("POST", `/v1/merchants/${merchant}/events`, body, { headers });
    const again = await herald.api("POST", `/v1/merchants/${merchant}/events`, body, { headers });
    expect(first.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    const { rows } = await sql<{ event_tx: string; delivery_tx: string; job_tx: string; jobs: number }>`
      SELECT e.xmin::text AS event_tx, d.xmin::text AS delivery_tx, j.xmin::text AS job_tx,
        (SELECT count(*)::int FROM pgboss.job WHERE name = 'attempts' AND data->>'delivery_id' = d.id) AS jobs
      FROM events e JOIN deliveries d ON d.event_id = e.id
      JOIN pgboss.job j ON j.name = 'attempts' AND j.data->>'delivery_id' = d.id
      WHERE e.id = ${first.body.id}
    `.execute(herald.database.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.delivery_tx).toBe(rows[0]!.event_tx);
    expect(rows[0]!.job_tx).toBe(rows[0]!.event_tx);
    expect(rows[0]!.jobs).toBe(1);
  });
});
