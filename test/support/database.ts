import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { templateDatabase, withDatabase } from "./global-setup.ts";

/** A new database for one test file, copied from the migrated template. */
export async function freshDatabase(): Promise<string> {
  const server = inject("postgresServerUrl");
  const name = `herald_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    // Postgres copies a template for one CREATE DATABASE at a time.
    await admin.query("SELECT pg_advisory_lock(4242)");
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${templateDatabase}`);
  } finally {
    await admin.end();
  }
  return withDatabase(server, name);
}
