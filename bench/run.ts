// `npm run bench [-- --quick] [--profile] [--only=emit,latency,…]`
//
// Measures Herald against the physical limits of the machine it runs on, in one run: raw Postgres
// transactions, raw HTTP POSTs, then every SPEC §6 figure beside its baseline. Postgres (embedded,
// or DATABASE_URL), the API, the dispatcher and the receiver are separate processes on loopback.
// Writes bench/results/<scenario>.json and prints the table (Markdown).
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import pg from "pg";
import { openBaselines } from "./baselines.ts";
import { runOptions } from "./cli.ts";
import { startBenchPostgres, withDatabase } from "./postgres.ts";
import { BenchReceiver } from "./receiver.ts";
import { type Result, table, writeResult } from "./results.ts";
import { capacityScenarios } from "./scenarios/capacity.ts";
import { deliveryScenarios } from "./scenarios/deliveries.ts";
import { emitScenarios } from "./scenarios/emit.ts";
import { fanout } from "./scenarios/fanout.ts";
import { isolation } from "./scenarios/isolation.ts";
import { latencyScenarios } from "./scenarios/latency.ts";
import { retryPunctuality, retryWave } from "./scenarios/retry-punctuality.ts";
import { storedAttempts } from "./scenarios/stored-attempts.ts";
import { throttle } from "./scenarios/throttle.ts";
import { sizes } from "./sizes.ts";
import type { BenchContext } from "./stack.ts";

const scenarios: [string, (ctx: BenchContext) => Promise<Result[]>][] = [
  ["emit", emitScenarios],
  ["deliveries", deliveryScenarios],
  ["latency", latencyScenarios],
  ["retry-punctuality", retryPunctuality],
  ["retry-wave", retryWave],
  ["isolation", isolation],
  ["fanout", fanout],
  ["stored-attempts", storedAttempts],
  ["throttle", throttle],
  ["capacity", capacityScenarios],
];

const { quick, profile, only, log } = runOptions(
  "scenario",
  scenarios.map(([name]) => name),
);
const resultsDir = new URL("./results", import.meta.url).pathname;
const profileDir = profile ? `${resultsDir}/profiles` : undefined;

await mkdir(profileDir ?? resultsDir, { recursive: true });
log(`${quick ? "quick" : "full"} run${profileDir ? ", profiling" : ""}: starting PostgreSQL`);
const postgres = await startBenchPostgres({ statements: profileDir !== undefined });
const receiver = await BenchReceiver.start();
const size = sizes(quick);
const ctx: BenchContext = {
  baselines: await openBaselines(postgres, receiver.url, size),
  quick,
  sizes: size,
  postgres,
  receiver,
  adminKey: `hk_admin_bench_${randomBytes(16).toString("hex")}`,
  encryptionKey: randomBytes(32).toString("hex"),
  profileDir,
  resultsDir,
  results: new Map(),
  log,
};

const machine = await describeMachine(await postgres.freshDatabase("machine"));
log(`${machine.cpus} × ${machine.cpu_model}, Node ${machine.node}, ${machine.postgres}`);
const results: Result[] = [];
const record = async (rows: Result[]) => {
  for (const row of rows) {
    ctx.results.set(row.scenario, row);
    results.push(row);
    await writeResult(resultsDir, row);
  }
};
try {
  for (const [name, scenario] of scenarios) {
    if (only && !only.includes(name)) continue;
    await record(await scenario(ctx));
  }
} finally {
  await ctx.baselines.close();
  receiver.close();
  await postgres.close();
}

const summary = table(results);
const met = results.filter((r) => r.pass === true).length;
const checked = results.filter((r) => r.pass !== null).length;
await writeFile(
  `${resultsDir}/summary.md`,
  `${quick ? "Quick" : "Full"} run, ${new Date().toISOString()}\n\n${summary}\n\nMachine: ${JSON.stringify(machine)}\n`,
);
console.log(`\n${summary}\n\n${met} of ${checked} targets met. Results in ${resultsDir}/`);
log("done");

async function describeMachine(databaseUrl: string) {
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, "postgres") });
  await client.connect();
  const { rows } = await client.query<{ version: string }>("SELECT version()");
  await client.end();
  const description = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    postgres: rows[0]!.version.split(" on ")[0]!,
    postgres_embedded: postgres.embedded,
    quick,
    date: new Date().toISOString(),
  };
  await writeFile(`${resultsDir}/machine.json`, `${JSON.stringify(description, null, 2)}\n`);
  return description;
}
