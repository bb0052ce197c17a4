import { attemptQueue, startQueue } from "@herald/db";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { useHerald } from "./support/fixture.ts";

/**
 * The attempt queue's table is vacuumed after a fixed number of dead rows, not once a fifth of it is
 * dead: pg-boss's fetch slows with every dead row it walks. The embedded server (`npm start`,
 * tests, bench) lets autovacuum look every second.
 */
describe("the attempt queue's table is vacuumed by count of dead rows", () => {
  const scene = useHerald({ dispatcher: false });

  async function queueTableOptions(): Promise<string[]> {
    const { rows } = await sql<{ options: string[] | null }>`
      SELECT c.reloptions AS options FROM pgboss.queue q
      JOIN pg_class c ON c.oid = ('pgboss.' || quote_ident(q.table_name))::regclass
      WHERE q.name = ${attemptQueue}`.execute(scene.herald.database.db);
    return rows[0]?.options ?? [];
  }

  it("has its autovacuum settings once Herald has started", async () => {
    expect(await queueTableOptions()).toEqual(
      expect.arrayContaining([
        "autovacuum_vacuum_scale_factor=0",
        "autovacuum_vacuum_threshold=5000",
        "autovacuum_vacuum_cost_delay=0",
      ]),
    );
  });

  it("keeps an operator's own threshold when Herald starts again", async () => {
    const { rows } = await sql<{ table: string }>`
      SELECT table_name AS table FROM pgboss.queue WHERE name = ${attemptQueue}`.execute(
      scene.herald.database.db,
    );
    await sql`ALTER TABLE ${sql.table(`pgboss.${rows[0]!.table}`)} SET (autovacuum_vacuum_threshold = 20000)`.execute(
      scene.herald.database.db,
    );
    const again = await startQueue(scene.herald.databaseUrl, { supervise: false, max: 1 });
    await again.stop({ graceful: false });
    expect(await queueTableOptions()).toContain("autovacuum_vacuum_threshold=20000");
  });

  it.skipIf(process.env.DATABASE_URL !== undefined)(
    "embedded PostgreSQL looks for work every second",
    async () => {
      const { rows } = await sql<{ autovacuum_naptime: string }>`SHOW autovacuum_naptime`.execute(
        scene.herald.database.db,
      );
      expect(rows[0]?.autovacuum_naptime).toBe("1s");
    },
  );
});
