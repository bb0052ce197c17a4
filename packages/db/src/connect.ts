import { createHash } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

// Counts and sums come back as strings by default; ours stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

export type Db = Kysely<Database>;

export interface Connection {
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

/**
 * A pool and its Kysely instance. A Herald process has two: the application's, for everything
 * else, and the hot path's (`preparedStatements`), which pg-boss, emits, fetches and recordings
 * share; each with its own connections and `application_name`.
 */
export function connect(url: string, options: PoolOptions = {}): Connection {
  const pool = createPool(url, options);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ever ran a query through it; a pool used directly (migrate)
      // would otherwise keep the process alive until its idle clients time out.
      if (!pool.ending) await pool.end();
    },
  };
}

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /**
   * For the pool that runs the hot path (emits, the attempt queue, recording attempts): every
   * parameterized statement becomes a named prepared statement of its connection, planned once
   * with a generic plan. Left to choose, Postgres re-plans the big inserts on every call
   * (jsonb_to_recordset hides row counts) and pg-boss's large statements too: planning cost more
   * than executing them (≈ 0.5 ms per statement, docs/benchmarks.md). Every hot statement reaches
   * its rows by key, so sequential scans are ruled out there: a plan kept for the connection's
   * life is made from the table sizes of its first call, and a table still small then (a fresh
   * install, the start of a burst) would otherwise be scanned whole for good (25 ms per recorded
   * batch of 15 at 20,000 attempts). Off elsewhere (migrations, ad hoc and test connections),
   * where a custom plan per call is the better default.
   */
  preparedStatements?: boolean;
}

/**
 * A short connection timeout makes the API answer 503 while Postgres is down instead of hanging;
 * queries that run too long are cut by the server.
 */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const prepared = options.preparedStatements ?? false;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 20,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 30_000,
    application_name: options.applicationName ?? "herald",
    // A prepared statement's plan is kept per connection: generic, it is planned once, by index.
    ...(prepared && { options: "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off" }),
  });
  // A client whose server went away emits "error" (idle ones on the pool, busy ones on themselves);
  // unheard, that kills the process. The query in flight still fails, and the pool replaces the client.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
    if (prepared) prepareParameterized(client);
  });
  return pool;
}

/**
 * Makes every parameterized statement a named prepared statement on its connection, so Postgres
 * parses and plans each distinct query once per connection instead of on every call. Kysely and
 * pg-boss both send plain (text, values) queries, so naming them here reaches both.
 * Statements without parameters (pg-boss's multi-statement scripts) stay as they are.
 */
function prepareParameterized(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === "string" && Array.isArray(values) && values.length > 0) {
      return query({ name: statementName(config), text: config, values }, callback);
    }
    return query(config, values, callback);
  };
}

const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    // Queries built from variable-length lists make new texts; keep the memo bounded.
    if (statementNames.size > 10_000) statementNames.clear();
    name = `h${createHash("sha1").update(text).digest("base64url")}`;
    statementNames.set(text, name);
  }
  return name;
}
