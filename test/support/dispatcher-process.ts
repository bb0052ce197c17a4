import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { TestHerald } from "./herald.ts";

const entryPoint = fileURLToPath(new URL("../../apps/herald/src/dispatcher.ts", import.meta.url));

export interface DispatcherProcess {
  child: ChildProcess;
  /** Everything it wrote to stderr and stdout (its logs), for a failing test to show. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node apps/herald/src/dispatcher.ts` as its own process on the test Herald's database and
 * keys, as an operator would, and resolves once it is taking work and stops cleanly on SIGTERM.
 */
export async function spawnDispatcher(
  herald: TestHerald,
  env: Record<string, string> = {},
): Promise<DispatcherProcess> {
  const child = spawn(process.execPath, [entryPoint], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: herald.databaseUrl,
      HERALD_ENCRYPTION_KEY: herald.encryptionKey.toString("hex"),
      HERALD_ALLOWED_CIDRS: "127.0.0.1/32,::1/128",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const started = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => {
        // Printed once it is started and its signal handlers are about to be installed.
        if (output.includes('"msg":"Herald dispatcher running"')) resolve(true);
      };
      child.stdout!.on("data", check);
      child.stderr!.on("data", check);
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000)),
  ]);
  if (!started) {
    child.kill("SIGKILL");
    throw new Error(`dispatcher did not start:\n${output}`);
  }
  return { child, output: () => output, exited };
}
