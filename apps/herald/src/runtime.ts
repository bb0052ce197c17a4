import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { chmod, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "@herald/config";
import { type EmbeddedDatabase, isAlive, startEmbeddedPostgres } from "@herald/db";

export interface Embedded {
  config: Config;
  databaseUrl: string;
  adminKey: string;
  encryptionKey: Buffer;
  postgres?: EmbeddedDatabase;
}

interface Keys {
  adminKey: string;
  encryptionKey: string;
  /** The embedded server's superuser password; absent in files written before it was random. */
  postgresPassword?: string;
}

/**
 * Fills what an all-in-one start may leave unset: an embedded PostgreSQL when there is no
 * DATABASE_URL, and an admin key, encryption key and database password generated once and kept in
 * `.herald/keys.json` (readable by its owner only). The data directory is claimed first: a second
 * Herald on it stops here, before it touches the server the first one runs.
 */
export async function embeddedDefaults(config: Config): Promise<Embedded> {
  const { dataDir } = config;
  // Traversable, not listable: the embedded server runs as the `postgres` user and must reach its folder.
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  await claimDataDir(dataDir);
  const keysFile = keysFileIn(dataDir);
  const stored = existsSync(keysFile) ? (JSON.parse(await readFile(keysFile, "utf8")) as Keys) : undefined;
  const keys: Keys = {
    adminKey: stored?.adminKey ?? `hk_admin_${randomBytes(24).toString("base64url")}`,
    encryptionKey: stored?.encryptionKey ?? randomBytes(32).toString("hex"),
    postgresPassword: stored?.postgresPassword ?? randomBytes(24).toString("base64url"),
  };
  if (stored?.postgresPassword === undefined) {
    // Written before the server learns the password, so a start cut short cannot lose it.
    await writeFile(keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  // A file from an older Herald may have been created with a laxer mode.
  await chmod(keysFile, 0o600);
  const postgres = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(join(dataDir, "postgres"), { password: keys.postgresPassword! });
  return {
    config,
    databaseUrl: config.databaseUrl ?? postgres!.url,
    adminKey: config.adminKey ?? keys.adminKey,
    encryptionKey: config.encryptionKey ?? Buffer.from(keys.encryptionKey, "hex"),
    ...(postgres && { postgres }),
  };
}

/** Where an all-in-one start keeps the keys it generated. */
export const keysFileIn = (dataDir: string) => join(dataDir, "keys.json");

/** Another Herald process runs on this data directory. */
export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
}

/**
 * Takes `herald.pid` in the data directory for this process, released when it exits. A pid file
 * left by a process that is gone (killed) is taken over; one of a live Herald refuses the start.
 */
async function claimDataDir(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, "herald.pid");
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(pidFile, String(process.pid), { flag: "wx", mode: 0o644 });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST" || tries > 2) throw error;
    }
    const owner = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isHerald(owner)) {
      throw new DataDirInUseError(
        `another Herald (pid ${owner}) is using the data directory ${dataDir}; stop it first, or set HERALD_DATA_DIR to another directory.`,
      );
    }
    await unlink(pidFile).catch(() => {});
  }
  process.on("exit", () => {
    try {
      if (readFileSync(pidFile, "utf8").trim() === String(process.pid)) unlinkSync(pidFile);
    } catch {}
  });
}

/** A live Node process: after a kill -9, the pid may since belong to something else. */
function isHerald(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("node");
  } catch {
    return true;
  }
}
