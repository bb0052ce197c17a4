// Applies pending migrations and exits: run it before rolling out new API and dispatcher processes.
import { createLogger, loadConfig, requireSettings } from "@herald/config";
import { type Connection, checkEncryptionKey, connect, migrate } from "@herald/db";
import { exitOnConfigError, lifecycleLog, startOrExit } from "./process.ts";

const role = "herald-migrate";

const config = exitOnConfigError(role, () => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl"]);
  return loaded;
});
const log = lifecycleLog(createLogger(config.logLevel, role));
let connection: Connection | undefined;
const applied = await startOrExit(
  log,
  async () => {
    connection = connect(config.databaseUrl!, { max: 1, applicationName: role });
    const names = await migrate(connection.pool);
    // Given the key, migrate also stores (or checks) its check value, before any process starts.
    if (config.encryptionKey) await checkEncryptionKey(connection.db, config.encryptionKey);
    return names;
  },
  async () => connection?.close(),
);
log.info({ applied }, applied.length > 0 ? "migrations applied" : "nothing to apply");
await connection!.close();
