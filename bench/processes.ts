import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type Role = "api" | "dispatcher";

const entryPoints: Record<Role, string> = {
  api: "apps/herald/src/api.ts",
  dispatcher: "apps/herald/src/dispatcher.ts",
};
const readyLine: Record<Role, RegExp> = {
  // The processes' JSON log lines; pino writes a line's own fields before its message.
  api: /"url":"([^"]+)".*"msg":"Herald API listening"/,
  dispatcher: /"msg":"Herald dispatcher running"/,
};
const repositoryRoot = new URL("..", import.meta.url).pathname;

// Whatever ends this run (a failed assertion, Ctrl-C), no Herald process outlives it.
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** One Herald API or dispatcher, as an operator runs it: its own process, configured by environment. */
export interface HeraldProcess {
  role: Role;
  pid: number;
  /** The API's base URL. */
  url: string;
  /** Resident memory now, in MB, from /proc (undefined once it has exited). */
  rssMb(): number | undefined;
  /** kill -9: no drain, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** How it ended, when it has: "code 1", "SIGKILL". */
  exited(): string | undefined;
  /** The last lines it wrote, for a failure report. */
  output(): string;
}

export interface ProcessOptions {
  databaseUrl: string;
  adminKey: string;
  encryptionKey: string;
  env?: Record<string, string>;
  /** Write a V8 CPU profile here when the process exits. */
  profileDir?: string | undefined;
  profileName?: string;
}

export async function startHeraldProcess(role: Role, options: ProcessOptions): Promise<HeraldProcess> {
  // As `npm run start:dispatcher` and docker-compose.yml run it.
  const flags = role === "dispatcher" ? ["--max-semi-space-size=8"] : [];
  const started = await startNodeProcess(
    role,
    [...flags, join(repositoryRoot, entryPoints[role])],
    {
      DATABASE_URL: options.databaseUrl,
      HERALD_ADMIN_KEY: options.adminKey,
      HERALD_ENCRYPTION_KEY: options.encryptionKey,
      HERALD_ALLOWED_CIDRS: "127.0.0.1/32",
      PORT: "0",
      LOG_LEVEL: "warn",
      ...options.env,
    },
    readyLine[role],
    options,
  );
  return { ...started, role };
}

/**
 * A Node process of the bench's (Herald's or a peer's), ready once a line of its output matches
 * `ready` (whose first group, if any, is its URL). Killed when the bench exits, whatever ends it.
 */
export async function startNodeProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  options: { profileDir?: string | undefined; profileName?: string } = {},
): Promise<Omit<HeraldProcess, "role">> {
  const profile = options.profileDir
    ? [
        "--cpu-prof",
        `--cpu-prof-dir=${options.profileDir}`,
        `--cpu-prof-name=${options.profileName ?? name}-${Date.now()}.cpuprofile`,
      ]
    : [];
  const child = spawn(process.execPath, [...profile, ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const lines: string[] = [];
  const ended = new Promise<void>((resolve) =>
    child.once("exit", () => {
      live.delete(child);
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in 60 s:\n${lines.join("\n")}`)),
      60_000,
    );
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        const matched = ready.exec(line);
        if (matched) {
          clearTimeout(timer);
          resolve(matched[1] ?? "");
        }
      }
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${lines.join("\n")}`));
    });
  });
  return handle(child, url, ended, lines);
}

function handle(
  child: ChildProcess,
  url: string,
  ended: Promise<void>,
  lines: string[],
): Omit<HeraldProcess, "role"> {
  const pid = child.pid!;
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid,
    url,
    rssMb: () => (running() ? residentMb(pid) : undefined),
    async kill() {
      if (running()) child.kill("SIGKILL");
      await ended;
    },
    async stop(graceMs = 30_000) {
      if (!running()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await ended;
      clearTimeout(timer);
    },
    exited: () =>
      running() ? undefined : child.signalCode ? String(child.signalCode) : `code ${child.exitCode}`,
    output: () => lines.join("\n"),
  };
}

/** VmRSS of a live process, in MB. */
export function residentMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}
