import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "@herald/config";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "@herald/db";

/** Where the all-in-one mode keeps its database and generated keys. */
export const dataDir = process.env.HERALD_DATA_DIR || join(process.cwd(), ".herald");

export interface Embedded {
  config: Config;
  databaseUrl: string;
  adminKey: string;
  encryptionKey: Buffer;
  postgres?: EmbeddedDatabase;
}

/**
 * Fills what an all-in-one start may leave unset: an embedded PostgreSQL when there is no
 * DATABASE_URL, and an admin key and encryption key generated once and kept in `.herald/`.
 */
export async function embeddedDefaults(config: Config): Promise<Embedded> {
  // Traversable, not listable: the embedded server runs as the `postgres` user and must reach its folder.
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const keysFile = join(dataDir, "keys.json");
  const stored = existsSync(keysFile)
    ? (JSON.parse(await readFile(keysFile, "utf8")) as { adminKey: string; encryptionKey: string })
    : undefined;
  const keys = stored ?? {
    adminKey: `hk_admin_${randomBytes(24).toString("base64url")}`,
    encryptionKey: randomBytes(32).toString("hex"),
  };
  if (!stored) await writeFile(keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
  const postgres = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(dataDir, "postgres"));
  return {
    config,
    databaseUrl: config.databaseUrl ?? postgres!.url,
    adminKey: config.adminKey ?? keys.adminKey,
    encryptionKey: config.encryptionKey ?? Buffer.from(keys.encryptionKey, "hex"),
    ...(postgres && { postgres }),
  };
}
