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
 * One pool per process. A short connection timeout makes the API answer 503 while Postgres is down
 * instead of hanging; queries that run too long are cut by the server.
 */
export function connect(url: string, options: { max?: number; applicationName?: string } = {}): Connection {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 20,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 30_000,
    application_name: options.applicationName ?? "herald",
  });
  // A client whose server went away emits "error" (idle ones on the pool, busy ones on themselves);
  // unheard, that kills the process. The query in flight still fails, and the pool replaces the client.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { pool, db, close: () => db.destroy() };
}
