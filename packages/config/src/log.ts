import { type Logger, pino } from "pino";

export type { Logger };

/**
 * The one logger: pino JSON lines. Credentials and secrets are redacted wherever they appear in a
 * logged object, so a careless log call cannot leak them.
 */
export function createLogger(level: string, name: string): Logger {
  return pino({
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
  });
}
