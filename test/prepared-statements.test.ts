// Named prepared statements with generic plans are a choice of the pools on the hot path, not of
// every connection: checked on a real connection of each kind.
import { createPool } from "@herald/db";
import { describe, expect, it } from "vitest";
import { freshDatabase } from "./support/database.ts";

async function sessionOf(preparedStatements: boolean) {
  const pool = createPool(await freshDatabase(), { max: 1, preparedStatements });
  const client = await pool.connect();
  try {
    await client.query("SELECT $1::int + 1 AS n", [41]);
    const { rows: statements } = await client.query("SELECT statement FROM pg_prepared_statements");
    const { rows: mode } = await client.query("SHOW plan_cache_mode");
    return { statements: statements.map((row) => row.statement), planCacheMode: mode[0].plan_cache_mode };
  } finally {
    client.release();
    await pool.end();
  }
}

describe("prepared statements", () => {
  it("a plan made while a table was small still reaches its rows by index once the table has grown", async () => {
    const pool = createPool(await freshDatabase(), { max: 1, preparedStatements: true });
    const client = await pool.connect();
    try {
      await client.query("CREATE TABLE grows (id text PRIMARY KEY, note text)");
      await client.query("INSERT INTO grows SELECT 's' || g, 'x' FROM generate_series(1, 5) g");
      await client.query("ANALYZE grows");
      const lookup = "SELECT note FROM grows WHERE id = ANY($1::text[])";
      // Planned now, on a table of one page, and kept for the connection's life.
      await client.query(lookup, [["a"]]);
      await client.query(
        "INSERT INTO grows SELECT 'k' || g, repeat('x', 100) FROM generate_series(1, 20000) g",
      );
      const { rows } = await client.query("SELECT name FROM pg_prepared_statements WHERE statement = $1", [
        lookup,
      ]);
      const plan = await client.query(`EXPLAIN EXECUTE "${rows[0].name}"('{k1,k2}')`);
      const text = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
      expect(text).toMatch(/Index/);
      expect(text).not.toMatch(/Seq Scan/);
    } finally {
      client.release();
      await pool.end();
    }
  });

  it("a hot-path pool names each parameterized statement and plans it once, generically", async () => {
    const session = await sessionOf(true);
    expect(session.statements).toContain("SELECT $1::int + 1 AS n");
    expect(session.planCacheMode).toBe("force_generic_plan");
  });

  it("any other pool leaves statements unnamed and planning to Postgres", async () => {
    const session = await sessionOf(false);
    expect(session.statements).toEqual([]);
    expect(session.planCacheMode).toBe("auto");
  });
});
