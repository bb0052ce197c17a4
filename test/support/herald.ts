import { randomBytes } from "node:crypto";
import { loadConfig } from "@herald/config";
import { type Connection, connect } from "@herald/db";
import { type Herald, startHerald } from "../../apps/herald/src/herald.ts";
import { freshDatabase } from "./database.ts";

export interface TestHerald {
  url: string;
  adminKey: string;
  databaseUrl: string;
  /** Its HERALD_ENCRYPTION_KEY, for another Herald process on the same database. */
  encryptionKey: Buffer;
  /** A separate connection for assertions straight on the tables. */
  database: Connection;
  /** Calls the API as the admin, or with `key`. Answers status and parsed JSON. */
  api(
    method: string,
    path: string,
    body?: unknown,
    options?: { key?: string | null; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  stop(): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the API answered
  body: any;
}

/**
 * A whole Herald (API and dispatcher, in this process) on its own fresh database, delivering to
 * loopback. `env` sets configuration exactly as the environment would. `sameDatabaseAs` starts a
 * second Herald on another's database and keys instead, e.g. one configured differently.
 */
export async function startTestHerald(
  env: Record<string, string> = {},
  options: { sameDatabaseAs?: TestHerald } = {},
): Promise<TestHerald> {
  const shared = options.sameDatabaseAs;
  const databaseUrl = shared?.databaseUrl ?? (await freshDatabase());
  const adminKey = shared?.adminKey ?? `test_admin_${randomBytes(12).toString("hex")}`;
  const encryptionKey = shared?.encryptionKey ?? randomBytes(32);
  const config = loadConfig({
    PORT: "0",
    LOG_LEVEL: "silent",
    HERALD_ALLOWED_CIDRS: "127.0.0.1/32,::1/128",
    ...env,
  });
  const herald: Herald = await startHerald({
    config,
    databaseUrl,
    adminKey,
    encryptionKey,
    api: true,
    dispatcher: env.HERALD_TEST_NO_DISPATCHER !== "1",
  });
  const database = connect(databaseUrl, { max: 4 });
  const url = herald.url!;
  return {
    url,
    adminKey,
    databaseUrl,
    encryptionKey,
    database,
    async api(method, path, body, options = {}) {
      const key = options.key === undefined ? adminKey : options.key;
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(key !== null && { authorization: `Bearer ${key}` }),
          ...(body !== undefined && { "content-type": "application/json" }),
          ...options.headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async stop() {
      await herald.stop();
      await database.close();
    },
  };
}

/** Creates a merchant and returns its id. */
export async function createMerchant(herald: TestHerald, name = "Acme"): Promise<string> {
  const answer = await herald.api("POST", "/v1/merchants", { name });
  if (answer.status !== 201) throw new Error(`merchant: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}

/** Registers an endpoint and returns it, secret included. */
export async function createEndpoint(
  herald: TestHerald,
  merchantId: string,
  fields: Record<string, unknown>,
) {
  const answer = await herald.api("POST", `/v1/merchants/${merchantId}/endpoints`, {
    mode: "test",
    ...fields,
  });
  if (answer.status !== 201) throw new Error(`endpoint: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as { id: string; secret: string; [field: string]: unknown };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
