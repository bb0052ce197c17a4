import {
  type Config,
  ConfigError,
  createLogger,
  type Logger,
  loadConfig,
  requireSettings,
} from "@herald/config";
import { type Herald, startHerald } from "./herald.ts";

/**
 * Where a process says it started, stops or could not start: its log, one JSON line like any other
 * (readable on a terminal). These lines are written at info even when LOG_LEVEL is quieter (warn,
 * error, fatal): whatever else an operator silences, they need to see a process come and go, and
 * scripts wait for the started line. Only LOG_LEVEL=silent silences them.
 */
export function lifecycleLog(log: Logger): Logger {
  return ["warn", "error", "fatal"].includes(log.level) ? log.child({}, { level: "info" }) : log;
}

/** Reads the configuration, or says what is wrong and exits with status 2. */
export function exitOnConfigError(role: string, load: () => Config): Config {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // LOG_LEVEL itself may be what is wrong: this one line uses the default.
    createLogger("info", role).fatal(error.message);
    process.exit(2);
  }
}

/**
 * Runs a start-up step; if it fails, undoes what was started (`cleanup`), logs one line saying why
 * and exits 1. An operator reads a sentence, not a stack: the error with its stack is in the line
 * only with LOG_LEVEL=debug or trace.
 */
export async function startOrExit<T>(
  log: Logger,
  step: () => Promise<T>,
  cleanup: () => Promise<void>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    await cleanup().catch(() => {});
    const message = `Herald could not start: ${describeStartError(error)}`;
    if (log.isLevelEnabled("debug")) log.fatal({ err: error }, message);
    else log.fatal(message);
    process.exit(1);
  }
}

type SystemError = Error & {
  code?: string;
  address?: string;
  port?: number;
  hostname?: string;
  errors?: unknown[];
};

/** One line for the errors a start meets in practice, and the message of any other. */
export function describeStartError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as SystemError;
  // Connecting to "localhost" tries ::1 and 127.0.0.1: Node reports an AggregateError with no message.
  const first = (e.errors?.[0] as SystemError | undefined) ?? e;
  const code = e.code ?? first.code;
  const where = first.address !== undefined ? `${first.address}:${first.port}` : first.hostname;
  switch (code) {
    case "EADDRINUSE":
      return `${where ?? "the address"} is already in use by another program (PORT, HOST, HERALD_METRICS_PORT).`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where ?? "HOST"}: no such address on this machine (HOST).`;
    case "EACCES":
      return `not allowed to listen on ${where ?? "that port"} (PORT).`;
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
      return `cannot reach the database at ${where ?? "DATABASE_URL"} (${code}).`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach the database: host "${where}" not found (DATABASE_URL).`;
    case "28P01":
    case "28000":
      return `the database refused the login: ${e.message} (DATABASE_URL).`;
    case "3D000":
      return `${e.message} (DATABASE_URL).`;
  }
  if (/timeout exceeded when trying to connect/i.test(e.message))
    return "cannot reach the database: the connection timed out (DATABASE_URL).";
  return (e.message || e.name).split("\n")[0]!;
}

/** SIGINT/SIGTERM stop the process cleanly; a second signal exits at once. */
export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, "stopping (in-flight attempts finish first)");
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/**
 * One part of Herald on its own (`npm run start:api`, `start:dispatcher`), against DATABASE_URL:
 * the configuration checked, the start undone if it fails, signals handled from the first moment (a
 * signal during the start waits for it, then stops what it started). Answers once it is running.
 */
export async function startOnePart(part: "api" | "dispatcher"): Promise<Herald> {
  const role = `herald-${part}`;
  const config = exitOnConfigError(role, () => {
    const loaded = loadConfig();
    requireSettings(
      loaded,
      part === "api" ? ["databaseUrl", "adminKey", "encryptionKey"] : ["databaseUrl", "encryptionKey"],
    );
    return loaded;
  });
  const log = createLogger(config.logLevel, role);
  const lifecycle = lifecycleLog(log);
  const starting = startOrExit(
    lifecycle,
    () =>
      startHerald({
        config,
        log,
        databaseUrl: config.databaseUrl!,
        adminKey: config.adminKey ?? "",
        encryptionKey: config.encryptionKey!,
        api: part === "api",
        dispatcher: part === "dispatcher",
      }),
    async () => {},
  );
  stopOnSignals(lifecycle, async () => (await starting).stop());
  const herald = await starting;
  if (part === "api") lifecycle.info({ url: herald.url }, "Herald API listening");
  else lifecycle.info("Herald dispatcher running");
  return herald;
}
