import { readdir, readFile } from "node:fs/promises";
import type pg from "pg";

const migrationsDir = new URL("../../../migrations/", import.meta.url);
// Any fixed number: every Herald process that starts takes this lock before it migrates.
const migrationLock = 7_031_978_042;

/**
 * Applies the `.sql` files of `migrations/` that this database has not seen, in name order, each in
 * its own transaction, under an advisory lock so that several processes can start at once.
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    // Receivers' answers, event data and ids are text beyond ASCII: a SQL_ASCII or LATIN1 database
    // would refuse some of them at delivery time, so it is refused here, before anything is stored.
    const { rows: encoding } = await client.query<{ server_encoding: string }>("SHOW server_encoding");
    if (encoding[0]?.server_encoding !== "UTF8") {
      throw new Error(
        `the database's encoding is ${encoding[0]?.server_encoding}; Herald needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8')`,
      );
    }
    await client.query("SELECT pg_advisory_lock($1)", [migrationLock]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS herald_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const { rows } = await client.query<{ name: string }>("SELECT name FROM herald_migrations");
    const applied = new Set(rows.map((row) => row.name));
    const pending = (await readdir(migrationsDir))
      .filter((f) => f.endsWith(".sql") && !applied.has(f))
      .sort();
    for (const name of pending) {
      const sql = await readFile(new URL(name, migrationsDir), "utf8");
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query("INSERT INTO herald_migrations (name) VALUES ($1)", [name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return pending;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [migrationLock]).catch(() => {});
    client.release();
  }
}

/** Whether every migration file has been applied: part of readiness. */
export async function migrationsApplied(pool: pg.Pool): Promise<boolean> {
  const files = (await readdir(migrationsDir)).filter((f) => f.endsWith(".sql"));
  const { rows } = await pool.query<{ count: string }>("SELECT count(*) FROM herald_migrations");
  return Number(rows[0]?.count) >= files.length;
}
