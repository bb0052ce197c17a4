import { resolve } from "node:path";
import { parseCidrs } from "@herald/core";

/**
 * Herald's configuration: environment variables only, read once at start, every problem reported
 * together in one readable error.
 */
export interface Config {
  /** Unset in the all-in-one `npm start`, which then runs an embedded PostgreSQL. */
  databaseUrl: string | undefined;
  host: string;
  port: number;
  adminKey: string | undefined;
  /** 32 bytes. */
  encryptionKey: Buffer | undefined;
  allowedCidrs: string;
  /** Multiplies every retry delay: 0.001 turns 3 minutes into 180 ms, for tests and demos. */
  retryTimeScale: number;
  logLevel: string;
  signatureHeader: string;
  /** `2xx`: any 2xx counts as delivered; `200`: only 200 does (BizFlex). */
  successStatus: "2xx" | "200";
  disableAfterHours: number;
  maxPayloadBytes: number;
  /** Refuse to emit a type the event-type catalog does not list, and endpoint filters matching none. */
  requireKnownTypes: boolean;
  retentionDays: number;
  /** Attempts in flight to one endpoint, across every dispatcher. */
  endpointConcurrency: number;
  /** Attempts in flight in one dispatcher process. */
  dispatcherConcurrency: number;
  /** Where a dispatcher-only process serves /metrics and /healthz; unset: nowhere. */
  metricsPort: number | undefined;
  /** Where the all-in-one `npm start` keeps its embedded database, keys and pid file. */
  dataDir: string;
  /** Attempts in flight for one merchant in one dispatcher process: its fair share. */
  merchantConcurrency: number;
  /** Endpoints one merchant may have (not counting deleted ones). */
  maxEndpointsPerMerchant: number;
  /** Nameservers the dispatcher asks (`HERALD_DNS_SERVERS`); empty: the system's. */
  dnsServers: string[];
  /** How often a dispatcher looks for pending deliveries that lost their job. */
  reconcileEveryMs: number;
  /** CSP frame-ancestors of the dashboard: the origins that may embed the merchant portal. */
  portalFrameAncestors: string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const number = (name: string, fallback: number, check: (n: number) => boolean, rule: string): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || !check(value)) problems.push(`${name}: must be ${rule}, got "${raw}"`);
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number) =>
    number(
      name,
      fallback,
      (n) => Number.isInteger(n) && n >= min && n <= max,
      `a whole number from ${min} to ${max}`,
    );

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL: must be a postgres:// connection URL");
  }
  const adminKey = env.HERALD_ADMIN_KEY || undefined;
  if (adminKey !== undefined && adminKey.length < 16)
    problems.push("HERALD_ADMIN_KEY: must be at least 16 characters");
  const encryptionKey = parseKey(env.HERALD_ENCRYPTION_KEY, problems);
  const successStatus = (env.HERALD_SUCCESS_STATUS || "2xx") as Config["successStatus"];
  if (successStatus !== "2xx" && successStatus !== "200")
    problems.push('HERALD_SUCCESS_STATUS: must be "2xx" or "200"');
  const signatureHeader = env.HERALD_SIGNATURE_HEADER || "x-signature";
  if (!/^[a-z0-9-]+$/i.test(signatureHeader)) problems.push("HERALD_SIGNATURE_HEADER: must be a header name");
  const allowedCidrs = env.HERALD_ALLOWED_CIDRS ?? "";
  try {
    parseCidrs(allowedCidrs);
  } catch (error) {
    problems.push(`${(error as Error).message} (expected comma-separated ranges such as 10.0.0.0/8)`);
  }
  const host = env.HOST || "127.0.0.1";
  // A name or an address to listen on; anything else fails only when the server binds.
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) problems.push(`HOST: must be a host name or an IP address`);
  const requireKnownTypes = env.HERALD_REQUIRE_KNOWN_TYPES || "false";
  if (requireKnownTypes !== "true" && requireKnownTypes !== "false")
    problems.push('HERALD_REQUIRE_KNOWN_TYPES: must be "true" or "false"');
  const dataDir = resolve(env.HERALD_DATA_DIR || ".herald");
  const logLevel = env.LOG_LEVEL || "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    problems.push("LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent");
  }

  const config: Config = {
    databaseUrl,
    host,
    port: integer("PORT", 8080, 0, 65535),
    adminKey,
    encryptionKey,
    allowedCidrs,
    retryTimeScale: number(
      "HERALD_RETRY_TIME_SCALE",
      1,
      (n) => n > 0 && n <= 1,
      "a number above 0 and at most 1",
    ),
    logLevel,
    signatureHeader: signatureHeader.toLowerCase(),
    successStatus,
    disableAfterHours: number("HERALD_DISABLE_AFTER_HOURS", 120, (n) => n > 0, "a positive number of hours"),
    maxPayloadBytes: integer("HERALD_MAX_PAYLOAD_BYTES", 256 * 1024, 1024, 16 * 1024 * 1024),
    requireKnownTypes: requireKnownTypes === "true",
    retentionDays: number("HERALD_RETENTION_DAYS", 30, (n) => n > 0, "a positive number of days"),
    endpointConcurrency: integer("HERALD_ENDPOINT_CONCURRENCY", 10, 1, 1000),
    dispatcherConcurrency: integer("HERALD_DISPATCHER_CONCURRENCY", 1024, 1, 10_000),
    metricsPort: env.HERALD_METRICS_PORT ? integer("HERALD_METRICS_PORT", 0, 0, 65535) : undefined,
    dataDir,
    merchantConcurrency: 0,
    maxEndpointsPerMerchant: integer("HERALD_MAX_ENDPOINTS_PER_MERCHANT", 500, 1, 1_000_000),
    dnsServers: (env.HERALD_DNS_SERVERS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    reconcileEveryMs:
      1000 * number("HERALD_RECONCILE_SECONDS", 30, (n) => n >= 0.1 && n <= 3600, "0.1 to 3600"),
    portalFrameAncestors: frameAncestors(env.HERALD_PORTAL_FRAME_ANCESTORS, problems),
  };
  // A quarter of the dispatcher's slots by default (256 of 1,024), so one merchant never holds them
  // all; a dispatcher with few slots (16 or fewer) has no share to divide. A slot is cheap (an
  // attempt waiting on its receiver), and a lone large merchant is held by its share first: at 64
  // it could not keep 1,500 events/s moving once Postgres slowed each recording down (bench).
  config.merchantConcurrency = integer(
    "HERALD_MERCHANT_CONCURRENCY",
    Math.min(config.dispatcherConcurrency, Math.max(16, Math.ceil(config.dispatcherConcurrency / 4))),
    1,
    10_000,
  );
  for (const server of config.dnsServers) {
    if (!/^(\[[0-9a-f:.]+\]|[0-9.]+|[0-9a-f:]+)(:\d{1,5})?$/i.test(server)) {
      problems.push(
        `HERALD_DNS_SERVERS: must be IP addresses (optionally :port), comma-separated, got "${server}"`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
  return config;
}

/** 32 bytes, as 64 hex characters or base64. */
function parseKey(raw: string | undefined, problems: string[]): Buffer | undefined {
  if (!raw) return undefined;
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
  if (key.length !== 32) {
    problems.push(
      "HERALD_ENCRYPTION_KEY: must be 32 bytes, as 64 hex characters or base64 (openssl rand -hex 32)",
    );
  }
  return key;
}

/** The settings a process that serves traffic cannot run without, when no embedded mode fills them. */
export function requireSettings(
  config: Config,
  names: ("databaseUrl" | "adminKey" | "encryptionKey")[],
): void {
  const envNames = {
    databaseUrl: "DATABASE_URL",
    adminKey: "HERALD_ADMIN_KEY",
    encryptionKey: "HERALD_ENCRYPTION_KEY",
  };
  const missing = names.filter((name) => config[name] === undefined).map((name) => envNames[name]);
  if (missing.length > 0)
    throw new ConfigError(`Invalid configuration:\n  - ${missing.join(", ")}: required`);
}

/** Space-separated origins (https://dash.example.com) or CSP keywords ('self', 'none'). */
function frameAncestors(raw: string | undefined, problems: string[]): string[] {
  const sources = (raw ?? "").split(/\s+/).filter(Boolean);
  const bad = sources.find((s) => !/^('self'|'none'|https?:\/\/[a-z0-9.*-]+(:\d+)?)$/i.test(s));
  if (bad)
    problems.push(
      `HERALD_PORTAL_FRAME_ANCESTORS: "${bad}" is not an origin such as https://dash.example.com`,
    );
  return sources;
}
