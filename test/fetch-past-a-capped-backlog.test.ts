import { attemptJob, attemptQueue, type Connection, connect, fetchAttempts, startQueue } from "@herald/db";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHerald } from "./support/fixture.ts";

/**
 * One endpoint at its in-flight cap with a long backlog of due attempts (a slow receiver whose
 * merchant keeps emitting) must not make every fetch read that backlog: fetches queue one after
 * another on one lock across every dispatcher, so a fetch that reads 100,000 jobs (70 ms) slows
 * every other merchant's deliveries. The jobs of other endpoints are found behind it all the same,
 * and the cap still holds.
 */
describe("a fetch behind an endpoint's capped backlog", () => {
  const scene = useHerald({ dispatcher: false });
  const backlog = 3000;
  const cap = 3;
  let boss: PgBoss;
  // One connection: the counters read after a fetch are that connection's own.
  let single: Connection;
  let table: string;
  beforeAll(async () => {
    boss = await startQueue(scene.herald.databaseUrl, { supervise: false, max: 2 });
    single = connect(scene.herald.databaseUrl, { max: 1 });
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM pgboss.queue WHERE name = ${attemptQueue}`.execute(single.db);
    table = rows[0]!.table_name;
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await single?.close();
  });

  /** Rows of the queue's table read through its indexes so far (the statistics, flushed now). */
  async function rowsRead(): Promise<number> {
    await sql`SELECT pg_stat_force_next_flush()`.execute(single.db);
    const { rows } = await sql<{ n: string }>`
      SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) AS n
      FROM pg_stat_user_tables WHERE schemaname = 'pgboss' AND relname = ${table}`.execute(single.db);
    return Number(rows[0]!.n);
  }

  function jobs(endpoint: string, n: number, trigger: "scheduled" | "test" = "scheduled") {
    const due = new Date(Date.now() - 60_000);
    return Array.from({ length: n }, (_, i) =>
      attemptJob(`dlv_${endpoint}_${i}`, { id: endpoint, timeout_ms: 1000 }, trigger, due),
    );
  }

  it("takes the other endpoints' jobs, none of the capped one's, without reading its backlog", async () => {
    for (let i = 0; i < backlog; i += 1000) await boss.insert(attemptQueue, jobs("ep_slow", 1000));
    const first = await fetchAttempts(single.db, boss, { batchSize: 50, endpointConcurrency: cap });
    expect(first.run.map((j) => j.groupId)).toEqual(["ep_slow", "ep_slow", "ep_slow"]);

    // As autovacuum keeps them on a live queue: planned with its statistics.
    await sql`ANALYZE ${sql.id("pgboss", table)}`.execute(single.db);
    // Queued after the backlog: an older backlog comes first in pg-boss's order.
    await boss.insert(attemptQueue, [...jobs("ep_b", 2), ...jobs("ep_c", 5), ...jobs("ep_d", 1, "test")]);
    const before = await rowsRead();
    const { run } = await fetchAttempts(single.db, boss, { batchSize: 50, endpointConcurrency: cap });
    const read = (await rowsRead()) - before;

    const taken = run.map((j) => j.groupId).sort();
    expect(taken).toEqual(["ep_b", "ep_b", "ep_c", "ep_c", "ep_c", "ep_d"]);
    // The claim is pg-boss's own: taken once each, state and claim as pg-boss sets them.
    expect(run.every((j) => j.retryCount === 0)).toBe(true);
    const { rows } = await sql<{ group_id: string; n: string }>`
      SELECT group_id, count(*) AS n FROM pgboss.job
      WHERE name = ${attemptQueue} AND state = 'active' GROUP BY group_id ORDER BY group_id`.execute(
      single.db,
    );
    expect(rows.map((r) => [r.group_id, Number(r.n)])).toEqual([
      ["ep_b", 2],
      ["ep_c", 3],
      ["ep_d", 1],
      ["ep_slow", 3],
    ]);
    // pg-boss's own fetch read every job of the backlog (3,000 and more); this one reads a head of
    // twice the batch and a few jobs per endpoint.
    expect(read).toBeLessThan(backlog / 5);

    // Every endpoint is at its cap or empty now: nothing more, and still not the backlog read.
    const again = await rowsRead();
    const none = await fetchAttempts(single.db, boss, { batchSize: 50, endpointConcurrency: cap });
    expect(none.run).toEqual([]);
    expect((await rowsRead()) - again).toBeLessThan(backlog / 5);
  });
});
