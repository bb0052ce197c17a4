import { writeFile } from "node:fs/promises";
import pg from "pg";
import type { Baselines } from "./baselines.ts";
import { type CpuParts, cpuMs, serverCpuMs } from "./cpu.ts";
import { HeraldApi } from "./herald-api.ts";
import { type BenchPostgres, resetStatements, topStatements } from "./postgres.ts";
import { type HeraldProcess, startHeraldProcess } from "./processes.ts";
import type { BenchReceiver } from "./receiver.ts";
import type { Result } from "./results.ts";
import type { Sizes } from "./sizes.ts";

/** What a stack needs: the server, the receiver, the keys. Shared by the bench and the drills. */
export interface StackContext {
  postgres: BenchPostgres;
  receiver: BenchReceiver;
  adminKey: string;
  /** 64 hex characters. */
  encryptionKey: string;
  /** Set by `--profile`: CPU profiles of every Herald process, and pg_stat_statements, go here. */
  profileDir: string | undefined;
  resultsDir: string;
  log(message: string): void;
}

/** What every scenario shares besides: the sizes, the baselines, the rows measured so far. */
export interface BenchContext extends StackContext {
  quick: boolean;
  sizes: Sizes;
  baselines: Baselines;
  /** Rows measured so far, for rows that compare with an earlier one. */
  results: Map<string, Result>;
}

/** One database with Herald's API and dispatchers on it, as separate processes. */
export interface Stack {
  databaseUrl: string;
  /** The bench's own connection, for setup and for reading the tables. */
  db: pg.Pool;
  /** A client of the first API process. */
  api: HeraldApi;
  apis: HeraldProcess[];
  /** A client of each API process, in the order of `apis`. */
  clients: HeraldApi[];
  dispatchers: HeraldProcess[];
  startApi(): Promise<HeraldApi>;
  startDispatcher(): Promise<HeraldProcess>;
  stopDispatchers(): Promise<void>;
  /** With `--profile`: writes the statements that took the server's time since the last call, and resets. */
  statements(label: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  dispatchers?: number;
  apis?: number;
  env?: Record<string, string>;
}

/**
 * A fresh database from the template, then the API (which migrates: a no-op on the template) and
 * the dispatchers. The receiver's records are cleared so counts start from zero.
 */
export async function startStack(
  ctx: StackContext,
  name: string,
  options: StackOptions = {},
): Promise<Stack> {
  const databaseUrl = await ctx.postgres.freshDatabase(name);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: "herald-bench" });
  db.on("error", () => {});
  db.on("connect", (client) => client.on("error", () => {}));
  await ctx.receiver.reset();
  const settings = (role: string) => ({
    databaseUrl,
    adminKey: ctx.adminKey,
    encryptionKey: ctx.encryptionKey,
    env: options.env ?? {},
    profileDir: ctx.profileDir,
    profileName: `${name}-${role}`,
  });
  const apis: HeraldProcess[] = [];
  const clients: HeraldApi[] = [];
  const dispatchers: HeraldProcess[] = [];
  const startApi = async () => {
    const started = await startHeraldProcess("api", settings("api"));
    apis.push(started);
    const client = new HeraldApi(started.url, ctx.adminKey);
    clients.push(client);
    return client;
  };
  const startDispatcher = async () => {
    const started = await startHeraldProcess("dispatcher", settings("dispatcher"));
    dispatchers.push(started);
    return started;
  };
  const api = await startApi();
  await Promise.all(Array.from({ length: (options.apis ?? 1) - 1 }, startApi));
  await Promise.all(Array.from({ length: options.dispatchers ?? 0 }, startDispatcher));
  if (ctx.postgres.statements) await resetStatements(db);
  const statements = async (label: string) => {
    if (!ctx.postgres.statements) return;
    const top = await topStatements(db);
    await resetStatements(db);
    await writeFile(`${ctx.resultsDir}/${label}.statements.json`, `${JSON.stringify(top, null, 2)}\n`);
    for (const s of top.slice(0, 4))
      ctx.log(
        `    pg: ${s.total_ms} ms in ${s.calls} calls (${s.mean_ms} ms each + ${s.plan_ms_per_call} ms planning): ${s.query.slice(0, 140)}`,
      );
  };
  // A profiled process must exit by itself to write its profile; otherwise nobody waits long.
  const grace = ctx.profileDir ? 30_000 : 3_000;

  return {
    databaseUrl,
    db,
    api,
    apis,
    clients,
    dispatchers,
    startApi,
    startDispatcher,
    async stopDispatchers() {
      await Promise.all(dispatchers.splice(0).map((d) => d.stop(grace)));
    },
    statements,
    async stop() {
      await statements(name);
      await Promise.all([...apis, ...dispatchers].map((p) => p.stop(grace)));
      await Promise.all(clients.map((c) => c.close()));
      await db.end();
    },
  };
}

/** The processes whose CPU a scenario counts: Postgres (when this run started it), Herald, the bench's own. */
export function cpuParts(ctx: StackContext, stack?: Stack): CpuParts {
  const postmaster = ctx.postgres.pid();
  return {
    ...(postmaster !== undefined && { postgres: () => serverCpuMs(postmaster) }),
    ...(stack && { herald: () => cpuMs([...stack.apis, ...stack.dispatchers].map((p) => p.pid)) }),
    receiver: () => cpuMs([ctx.receiver.pid]),
    bench: () => cpuMs([process.pid]),
  };
}
