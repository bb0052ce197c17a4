import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedPostgres } from "@herald/db";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./support/herald.ts";

const entry = (name: string) => fileURLToPath(new URL(`../apps/herald/src/${name}.ts`, import.meta.url));

interface Run {
  child: ChildProcess;
  /** stdout and stderr. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Its stdout's lines, each parsed: a line that is not a JSON log record fails the test. */
  records(): { msg: string; [field: string]: unknown }[];
  /** The message of each record, one a line. */
  messages(): string;
  exited: Promise<number | null>;
}

/** `node apps/herald/src/<name>.ts` as an operator runs it, with exactly this environment. */
function run(name: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, [entry(name)], {
    env: { PATH: process.env.PATH, LOG_LEVEL: "warn", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // stdout is the JSON log stream; stderr carries only the all-in-one's card for a person.
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  // The last line may still be arriving.
  const records = () =>
    stdout
      .split("\n")
      .slice(0, -1)
      .map((line) => {
        try {
          return JSON.parse(line);
        } catch {
          throw new Error(`not a JSON log line: ${line}`);
        }
      });
  const messages = () =>
    records()
      .map((r) => r.msg)
      .join("\n");
  return {
    child,
    output: () => stdout + stderr,
    stdout: () => stdout,
    stderr: () => stderr,
    records,
    messages,
    exited,
  };
}

/** Resolves with the API's URL once the all-in-one says it is running; fails if it exits first. */
async function running(herald: Run): Promise<string> {
  const url = await Promise.race([
    eventually(
      async () => herald.records().find((r) => r.msg === "Herald is running")?.url as string,
      90_000,
    ),
    herald.exited.then((code) => {
      throw new Error(`exited ${code} before running:\n${herald.output()}`);
    }),
  ]);
  return url;
}

/** The processes whose command line names `dir`: the embedded PostgreSQL and its workers. */
function processesUsing(dir: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return false;
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const scratch: string[] = [];
/** A temporary directory removed after the file's tests. */
async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** What a stack trace looks like in output: a frame line. */
const stackFrame = /^\s+at .+[(:]/m;

async function login(port: number, password: string) {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
  client.on("error", () => {});
  await client.connect();
  await client.end();
}

function readKeys(dir: string) {
  return JSON.parse(readFileSync(join(dir, "keys.json"), "utf8")) as {
    adminKey: string;
    encryptionKey: string;
    postgresPassword: string;
  };
}

describe("the all-in-one start on one data directory", () => {
  let dataDir: string;
  let first: Run;
  let firstUrl: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "herald-start-"));
    // The embedded server runs as the `postgres` user and must reach its folder.
    await chmod(dataDir, 0o711);
    first = run("start", { HERALD_DATA_DIR: dataDir });
    firstUrl = await running(first);
  }, 120_000);
  afterAll(async () => {
    first.child.kill("SIGKILL");
    for (const pid of processesUsing(dataDir)) process.kill(pid, "SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps a random database password with its keys, readable by its owner only", async () => {
    expect(statSync(join(dataDir, "keys.json")).mode & 0o777).toBe(0o600);
    const port = Number(readFileSync(join(dataDir, "postgres", "port"), "utf8"));
    const keys = readKeys(dataDir);
    expect(keys.postgresPassword).toMatch(/^[\w-]{32}$/);
    await login(port, keys.postgresPassword);
    await expect(login(port, "postgres")).rejects.toMatchObject({ code: "28P01" });
  });

  it("says it is running in its JSON log, naming where the admin key is but never the key; the card on stderr shows it", async () => {
    const running = first.records().find((r) => r.msg === "Herald is running");
    expect(running).toMatchObject({
      url: firstUrl,
      dashboard: `${firstUrl}/ui`,
      admin_key_from: join(dataDir, "keys.json"),
    });
    expect(first.stdout()).not.toContain(readKeys(dataDir).adminKey);
    // The person who ran `npm start` reads the generated key on the card, to sign in with.
    expect(first.stderr()).toContain(`Herald is running at ${firstUrl}`);
    expect(first.stderr()).toContain(`Admin key:      ${readKeys(dataDir).adminKey}`);
  });

  it("refuses a second Herald on the same data directory, leaving the first one serving", async () => {
    const second = run("start", { HERALD_DATA_DIR: dataDir });
    expect(await second.exited).toBe(1);
    expect(second.messages()).toContain("another Herald");
    expect(second.messages()).toContain(dataDir);
    expect(second.output()).not.toMatch(stackFrame);
    expect((await fetch(`${firstUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${firstUrl}/readyz`)).status).toBe(200);
  });

  it("refuses processes given another encryption key: api, dispatcher and all-in-one", async () => {
    const port = Number(readFileSync(join(dataDir, "postgres", "port"), "utf8"));
    const databaseUrl = `postgres://postgres:${readKeys(dataDir).postgresPassword}@127.0.0.1:${port}/herald`;
    const wrongKey = "ab".repeat(32);
    const api = run("api", {
      DATABASE_URL: databaseUrl,
      HERALD_ADMIN_KEY: "an-admin-key-of-some-length",
      HERALD_ENCRYPTION_KEY: wrongKey,
    });
    const dispatcher = run("dispatcher", { DATABASE_URL: databaseUrl, HERALD_ENCRYPTION_KEY: wrongKey });
    const allInOne = run("start", {
      DATABASE_URL: databaseUrl,
      HERALD_ENCRYPTION_KEY: wrongKey,
      HERALD_DATA_DIR: await scratchDir("herald-start-other-"),
    });
    for (const process of [api, dispatcher, allInOne]) {
      expect(await process.exited).toBe(1);
      expect(process.messages()).toContain(
        "HERALD_ENCRYPTION_KEY is not the key this database was set up with",
      );
      expect(process.output()).not.toMatch(stackFrame);
    }
    // The right key starts.
    const right = run("dispatcher", {
      DATABASE_URL: databaseUrl,
      HERALD_ENCRYPTION_KEY: readKeys(dataDir).encryptionKey,
    });
    await eventually(
      async () => (right.messages().includes("Herald dispatcher running") ? true : undefined),
      30_000,
    );
    right.child.kill("SIGTERM");
    expect(await right.exited).toBe(0);
  });

  it("migrate exits as soon as it is done", async () => {
    const port = Number(readFileSync(join(dataDir, "postgres", "port"), "utf8"));
    const migrate = run("migrate", {
      DATABASE_URL: `postgres://postgres:${readKeys(dataDir).postgresPassword}@127.0.0.1:${port}/herald`,
    });
    // Its pool's idle timeout is 30 s: a process that waited for it would still be running at 15 s.
    const code = await Promise.race([
      migrate.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 15_000)),
    ]);
    migrate.child.kill("SIGKILL");
    expect(code).toBe(0);
    expect(migrate.messages()).toBe("nothing to apply");
  });

  it("after a kill -9, starts again: the server the killed run left is stopped and replaced", async () => {
    const orphan = Number(readFileSync(join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    first.child.kill("SIGKILL");
    await first.exited;
    // What the killed run leaves: its server, still running, still holding the data directory.
    expect(processesUsing(dataDir)).toContain(orphan);

    first = run("start", { HERALD_DATA_DIR: dataDir });
    firstUrl = await running(first);
    expect(processesUsing(dataDir)).not.toContain(orphan);
    const merchant = await fetch(`${firstUrl}/v1/merchants`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${JSON.parse(readFileSync(join(dataDir, "keys.json"), "utf8")).adminKey}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "after the crash" }),
    });
    expect(merchant.status).toBe(201);
  });

  it("a start that fails (port in use) stops the embedded server it started and says why in one line", async () => {
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);

    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const failed = run("start", { HERALD_DATA_DIR: dataDir, PORT: String(port) });
      expect(await failed.exited).toBe(1);
      expect(failed.messages()).toContain(`Herald could not start: 127.0.0.1:${port} is already in use`);
      expect(failed.output()).not.toMatch(stackFrame);
      expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
      expect(processesUsing(dataDir)).toEqual([]);
      expect(existsSync(join(dataDir, "herald.pid"))).toBe(false);
    } finally {
      taken.close();
    }
  });
});

describe("an embedded server whose port was taken while it was stopped", () => {
  it("starts on another port", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "herald-port-"));
    await chmod(dataDir, 0o711);
    const taken: Server = createServer();
    try {
      const before = await startEmbeddedPostgres(join(dataDir, "postgres"));
      await before.stop();
      const port = Number(readFileSync(join(dataDir, "postgres", "port"), "utf8"));
      await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));

      const after = await startEmbeddedPostgres(join(dataDir, "postgres"));
      try {
        expect(new URL(after.url).port).not.toBe(String(port));
        const client = new pg.Client(after.url);
        await client.connect();
        await client.end();
      } finally {
        await after.stop();
      }
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("an embedded server made before its password was random", () => {
  it("gets the password kept in keys.json on the first start after the upgrade", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "herald-upgrade-"));
    await chmod(dataDir, 0o711);
    try {
      // What an older Herald left: a cluster whose superuser logs in with postgres/postgres, and
      // keys.json without a database password.
      const legacy = await startEmbeddedPostgres(join(dataDir, "postgres"), { password: "postgres" });
      await legacy.stop();
      await writeFile(
        join(dataDir, "keys.json"),
        JSON.stringify({ adminKey: "hk_admin_old_admin_key_0123456789", encryptionKey: "cd".repeat(32) }),
        { mode: 0o644 },
      );

      const herald = run("start", { HERALD_DATA_DIR: dataDir });
      await running(herald);
      const port = Number(readFileSync(join(dataDir, "postgres", "port"), "utf8"));
      const keys = readKeys(dataDir);
      expect(keys.encryptionKey).toBe("cd".repeat(32));
      expect(statSync(join(dataDir, "keys.json")).mode & 0o777).toBe(0o600);
      await login(port, keys.postgresPassword);
      await expect(login(port, "postgres")).rejects.toMatchObject({ code: "28P01" });
      herald.child.kill("SIGTERM");
      expect(await herald.exited).toBe(0);
    } finally {
      for (const pid of processesUsing(dataDir)) process.kill(pid, "SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("a start with settings it cannot use", () => {
  it("reports every bad setting together, HERALD_ALLOWED_CIDRS included, without a stack", async () => {
    const herald = run("start", {
      HERALD_ALLOWED_CIDRS: "banana",
      PORT: "99999",
      HERALD_DATA_DIR: join(tmpdir(), "herald-never-created"),
    });
    expect(await herald.exited).toBe(2);
    expect(herald.messages()).toContain('HERALD_ALLOWED_CIDRS: "banana" is not a CIDR range');
    expect(herald.messages()).toContain("PORT: must be");
    expect(herald.output()).not.toMatch(stackFrame);
    expect(existsSync(join(tmpdir(), "herald-never-created"))).toBe(false);
  });

  it("a dispatcher whose metrics port is in use says so in one line", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), "herald-metrics-"));
    const server = await startEmbeddedPostgres(dir);
    try {
      const dispatcher = run("dispatcher", {
        DATABASE_URL: server.url,
        HERALD_ENCRYPTION_KEY: "12".repeat(32),
        HERALD_METRICS_PORT: String(port),
      });
      expect(await dispatcher.exited).toBe(1);
      expect(dispatcher.messages()).toBe(
        `Herald could not start: 127.0.0.1:${port} is already in use by another program (PORT, HOST, HERALD_METRICS_PORT).`,
      );
    } finally {
      taken.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("says in one line that DATABASE_URL cannot be reached, for every entry point", async () => {
    // Port 1 on loopback: nothing listens, every connection is refused at once.
    const env = {
      DATABASE_URL: "postgres://herald:secret-password@127.0.0.1:1/herald",
      HERALD_ADMIN_KEY: "an-admin-key-of-some-length",
      HERALD_ENCRYPTION_KEY: "ef".repeat(32),
      HERALD_DATA_DIR: await scratchDir("herald-unreachable-"),
    };
    for (const name of ["api", "dispatcher", "migrate", "start"]) {
      const herald = run(name, env);
      expect(await herald.exited).toBe(1);
      expect(herald.messages()).toBe(
        "Herald could not start: cannot reach the database at 127.0.0.1:1 (ECONNREFUSED).",
      );
      expect(herald.records()).toMatchObject([{ level: 60 }]);
    }
  });
});
