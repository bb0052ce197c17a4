// Herald and its peers behind one face, so a scenario can load each the same way: emit one event,
// count CPU, stop. The peers (sender.ts) are started here: their tables, their endpoint, and for
// BullMQ a Redis of their own on loopback.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Pool } from "undici";
import { type CpuParts, cpuMs, serverCpuMs } from "../cpu.ts";
import { paymentData } from "../herald-api.ts";
import { preciseNow } from "../load.ts";
import { type HeraldProcess, startNodeProcess } from "../processes.ts";
import { type BenchContext, cpuParts, startStack } from "../stack.ts";

export type SystemName = "herald" | "bullmq" | "pgboss";

/** One system under load: an API that takes single events, and whatever delivers them. */
export interface System {
  name: SystemName;
  /** Emits event `n` to the one endpoint; answers its id when accepted, and when it was sent. */
  emit(n: number): Promise<{ id?: string; sentAt: number }>;
  /** Every process of the system, Postgres (and Redis) included, with the receiver and the bench. */
  cpu: CpuParts;
  /** Stops what delivers (Herald's dispatcher, the peer's worker), so a backlog can build up. */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Event n goes to endpoint n mod this, in every system: a provider's traffic is spread over many
 * endpoints, and Herald holds each endpoint to 10 attempts in flight (the peers hold none).
 */
export const endpointCount = 10;

/** Herald as in production: one API and one dispatcher process. */
export async function heraldSystem(ctx: BenchContext, path: string): Promise<System> {
  const stack = await startStack(ctx, `capacity-herald`, { dispatchers: 1 });
  const merchant = await stack.api.createMerchant("Bench capacity");
  for (let i = 0; i < endpointCount; i++) {
    await stack.api.createEndpoint(merchant, {
      url: `${ctx.receiver.url}${path}/${i}`,
      event_types: [`bench.e${i}`],
    });
  }
  return {
    name: "herald",
    async emit(n) {
      const emitted = await stack.api.emit(merchant, `bench.e${n % endpointCount}`, n);
      return { id: emitted.status === 202 ? emitted.id : undefined, sentAt: emitted.sentAt };
    },
    cpu: cpuParts(ctx, stack),
    stopWorker: () => stack.stopDispatchers(),
    startWorker: async () => {
      await stack.startDispatcher();
    },
    stop: () => stack.stop(),
  };
}

/** Whether this machine can run the BullMQ arm: Debian's `redis-server` on the PATH. */
export function redisInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * A peer sender, as two processes like Herald's (ingest, worker), on a fresh database of the same
 * server, delivering to the same receiver. BullMQ gets a Redis of its own with the AOF fsynced
 * every second (its usual durable setting).
 */
export async function peerSystem(
  ctx: BenchContext,
  name: "bullmq" | "pgboss",
  path: string,
): Promise<System> {
  const databaseUrl = await ctx.postgres.freshDatabase(`capacity-${name}`);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const endpointIds = Array.from({ length: endpointCount }, () => `ep_${randomBytes(8).toString("hex")}`);
  await db.query(`
    CREATE TABLE peer_endpoints (id text PRIMARY KEY, url text NOT NULL, secret text NOT NULL);
    CREATE TABLE peer_attempts (id text PRIMARY KEY, event_id text NOT NULL, endpoint_id text NOT NULL,
      attempt int NOT NULL, status int NOT NULL, duration_ms int NOT NULL, started_at timestamptz NOT NULL);
    CREATE INDEX peer_attempts_event ON peer_attempts (event_id);`);
  for (const [i, id] of endpointIds.entries()) {
    await db.query("INSERT INTO peer_endpoints VALUES ($1, $2, $3)", [
      id,
      `${ctx.receiver.url}${path}/${i}`,
      `whsec_${randomBytes(24).toString("base64")}`,
    ]);
  }
  await db.end();
  const redis = name === "bullmq" ? await startRedis() : undefined;
  const env = { DATABASE_URL: databaseUrl };
  const args = (role: string) => [
    new URL("./sender.ts", import.meta.url).pathname,
    name,
    role,
    ...(redis ? [redis.url] : []),
  ];
  const profile = (role: string) => ({ profileDir: ctx.profileDir, profileName: `capacity-${name}-${role}` });
  const processes: Omit<HeraldProcess, "role">[] = [];
  const ingest = await startNodeProcess(
    `${name} ingest`,
    args("ingest"),
    env,
    /peer ingest listening at (\S+)/,
    profile("ingest"),
  );
  processes.push(ingest);
  const startWorker = async () => {
    processes.push(
      await startNodeProcess(`${name} worker`, args("worker"), env, /peer worker running/, profile("worker")),
    );
  };
  await startWorker();
  const grace = ctx.profileDir ? 30_000 : 3_000;
  const api = new Pool(ingest.url, { connections: 64, pipelining: 1 });
  const postmaster = ctx.postgres.pid();
  return {
    name,
    async emit(n) {
      const sentAt = preciseNow();
      const response = await api.request({
        method: "POST",
        path: "/events",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          endpoint_id: endpointIds[n % endpointCount],
          type: `bench.e${n % endpointCount}`,
          data: paymentData(n),
        }),
        headersTimeout: 30_000,
      });
      const answer = (await response.body.json()) as { id?: string };
      return { id: response.statusCode === 202 ? answer.id : undefined, sentAt };
    },
    cpu: {
      ...(postmaster !== undefined && { postgres: () => serverCpuMs(postmaster) }),
      ...(redis && { redis: () => cpuMs([redis.pid]) }),
      [name]: () => cpuMs(processes.map((p) => p.pid)),
      receiver: () => cpuMs([ctx.receiver.pid]),
      bench: () => cpuMs([process.pid]),
    },
    async stopWorker() {
      await Promise.all(processes.splice(1).map((p) => p.stop(grace)));
    },
    startWorker,
    async stop() {
      await Promise.all(processes.map((p) => p.stop(grace)));
      await api.close();
      await redis?.stop();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis on loopback in a temporary folder: AOF on, fsynced every second, no RDB snapshots. */
async function startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "herald-bench-redis-"));
  const port = await freePort();
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.resume();
  child.stderr.resume();
  const kill = () => child.kill("SIGKILL");
  process.on("exit", kill);
  await new Promise<void>((resolve, reject) => {
    let lines = "";
    child.stdout.on("data", (chunk: Buffer) => {
      lines += chunk.toString();
      if (/Ready to accept connections/.test(lines)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${lines.slice(-500)}`)));
  });
  // `--save ""` on the command line is read differently across versions; set it where it is exact.
  spawnSync("redis-cli", ["-p", String(port), "CONFIG", "SET", "save", ""], { stdio: "ignore" });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      process.off("exit", kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
