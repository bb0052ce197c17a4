// CPU time per unit of work, read from /proc: on a machine shared with other work, rates move with
// the neighbours' load, but the CPU an event costs does not. It says where a rate's limit lies.
import { readdirSync, readFileSync } from "node:fs";
import { closedLoop, type Unit } from "./load.ts";
import { round } from "./results.ts";

// USER_HZ: what /proc/<pid>/stat counts CPU time in, on every Linux the bench runs on.
const ticksPerSecond = 100;

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name, in parentheses, may hold spaces: fields are counted after it.
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** User + system CPU time these processes have used so far, in ms. */
export function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = stat(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond;
}

/**
 * CPU used so far by a PostgreSQL server, in ms: the postmaster, every process it runs now
 * (backends, WAL writer, checkpointer, autovacuum workers) and every one it ran and reaped since
 * (backends whose connection closed, autovacuum workers, which come and go every second). Counting
 * only the live ones would lose a process's time when it exits between two readings.
 */
export function serverCpuMs(postmasterPid: number): number {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && stat(pid)?.[1] === String(postmasterPid)) children.push(pid);
  }
  const fields = stat(postmasterPid);
  const reaped = fields ? ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond : 0;
  return cpuMs([postmasterPid, ...children]) + reaped;
}

/** Named parts whose CPU is counted: each answers the CPU it has used so far, in ms. */
export type CpuParts = Record<string, () => number>;

/** CPU used so far by each part, in ms. */
export function readCpu(parts: CpuParts): Record<string, number> {
  return Object.fromEntries(Object.entries(parts).map(([name, used]) => [name, used()]));
}

/** Per unit, in ms, what each part spent between two readings. */
export function cpuBetween(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(before).map((name) => [name, round((after[name]! - before[name]!) / Math.max(1, units), 3)]),
  );
}

/**
 * Runs `unit` in a closed loop for `durationMs` and answers the CPU each part spent per
 * successful unit, in ms.
 */
export async function cpuPerUnit(
  unit: Unit,
  concurrency: number,
  durationMs: number,
  parts: CpuParts,
): Promise<Record<string, number>> {
  const before = readCpu(parts);
  const run = await closedLoop(unit, concurrency, durationMs);
  return cpuBetween(before, readCpu(parts), run.ok);
}
