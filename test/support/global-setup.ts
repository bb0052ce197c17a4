import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, migrate, startEmbeddedPostgres, startQueue } from "@herald/db";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A server URL (any database) on which tests create their own databases. */
    postgresServerUrl: string;
  }
}

export const templateDatabase = "herald_test_template";

/**
 * One PostgreSQL for the whole run: DATABASE_URL when set, else an embedded server (the same
 * PostgreSQL binaries, without needing Docker). A template database gets the migrations and the
 * pg-boss schema once; each test file then copies it, which takes milliseconds.
 */
export default async function setup(project: TestProject) {
  const server = await startServer();
  const templateUrl = withDatabase(server.url, templateDatabase);
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`).catch(async () => {
    await admin.query(`ALTER DATABASE ${templateDatabase} WITH ALLOW_CONNECTIONS true`);
    await admin.query(`DROP DATABASE ${templateDatabase} WITH (FORCE)`);
  });
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  const connection = connect(templateUrl, { max: 2 });
  await migrate(connection.pool);
  await connection.close();
  const boss = await startQueue(templateUrl, { supervise: false });
  await boss.stop({ graceful: false, close: true });
  // Nothing may stay connected to a template that is being copied.
  await admin.query(`ALTER DATABASE ${templateDatabase} WITH ALLOW_CONNECTIONS false`);
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [
    templateDatabase,
  ]);
  await admin.end();
  project.provide("postgresServerUrl", server.url);
  return server.stop;
}

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "herald-test-pg-"));
  // The server runs as the `postgres` user, which must be able to reach its folder.
  await chmod(dir, 0o711);
  const embedded = await startEmbeddedPostgres(join(dir, "data"));
  return {
    url: withDatabase(embedded.url, "postgres"),
    stop: async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
