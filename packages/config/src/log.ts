import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * The one logger: pino JSON lines on stdout. Credentials and secrets are redacted wherever they
 * appear in a logged object, so a careless log call cannot leak them (in either format).
 *
 * On a terminal, and only when the development dependency pino-pretty is installed, the same
 * records are written as readable lines instead. A container's stdout is no terminal and the
 * production image has no pino-pretty, so what a log collector reads is always one JSON object
 * per line.
 */
export function createLogger(level: string, name: string): Logger {
  return pino(
    {
      level,
      name,
      base: { service: name },
      redact: {
        paths: [
          "req.headers.authorization",
          "headers.authorization",
          "*.secret",
          "*.secrets",
          "*.key",
          "secret",
          "key",
          "*.signature",
        ],
        censor: "[redacted]",
      },
    },
    process.stdout.isTTY ? readableLines() : undefined,
  );
}

/**
 * pino-pretty in this thread, writing synchronously: a worker-thread transport would lose the last
 * lines when a process exits right after logging them (a stop on SIGTERM does).
 */
function readableLines(): DestinationStream | undefined {
  let pretty: (options: Record<string, unknown>) => DestinationStream;
  try {
    pretty = createRequire(import.meta.url)("pino-pretty");
  } catch {
    return undefined;
  }
  return pretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" });
}
