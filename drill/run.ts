// `npm run drill [-- --quick] [--profile] [--only=kill-dispatcher,postgres-restart,multi-process]`
//
// Fault drills (SPEC §7): Herald's API and dispatchers as separate processes on a PostgreSQL this
// run starts (embedded, or DATABASE_URL), delivering to a loopback receiver, while things break.
// Each drill reports its figures (accepted, delivered, lost, duplicates, recovery time); the
// process exits non-zero when any drill fails.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { runOptions } from "../bench/cli.ts";
import { startBenchPostgres } from "../bench/postgres.ts";
import { BenchReceiver } from "../bench/receiver.ts";
import type { StackContext } from "../bench/stack.ts";
import { killDispatcher } from "./kill-dispatcher.ts";
import { multiProcess } from "./multi-process.ts";
import { postgresRestart } from "./postgres-restart.ts";
import { type DrillReport, printReports } from "./report.ts";

const drills: [string, (ctx: StackContext, quick: boolean) => Promise<DrillReport>][] = [
  ["kill-dispatcher", killDispatcher],
  ["postgres-restart", postgresRestart],
  ["multi-process", multiProcess],
];

const { quick, profile, only, log } = runOptions(
  "drill",
  drills.map(([name]) => name),
);

const resultsDir = new URL("../bench/results", import.meta.url).pathname;
const profileDir = profile ? `${resultsDir}/profiles` : undefined;
await mkdir(profileDir ?? resultsDir, { recursive: true });
log(`${quick ? "quick" : "full"} drills: starting PostgreSQL`);
const postgres = await startBenchPostgres({ statements: profile });
const receiver = await BenchReceiver.start();
const ctx: StackContext = {
  postgres,
  receiver,
  adminKey: `hk_admin_drill_${randomBytes(16).toString("hex")}`,
  encryptionKey: randomBytes(32).toString("hex"),
  profileDir,
  resultsDir,
  log,
};

const reports: DrillReport[] = [];
try {
  for (const [name, drill] of drills) {
    if (only && !only.includes(name)) continue;
    try {
      reports.push(await drill(ctx, quick));
    } catch (error) {
      reports.push({
        drill: name,
        pass: false,
        figures: {},
        failures: [`crashed: ${(error as Error).stack}`],
      });
    }
    log(printReports(reports.slice(-1)));
  }
} finally {
  receiver.close();
  await postgres.close();
}

console.log(`\n${printReports(reports)}`);
const failed = reports.filter((r) => !r.pass).length;
console.log(
  failed === 0 ? `\nall ${reports.length} drills passed` : `\n${failed} of ${reports.length} drills failed`,
);
process.exit(failed === 0 ? 0 : 1);
