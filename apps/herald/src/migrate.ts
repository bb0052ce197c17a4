// Applies pending migrations and exits: run it before rolling out new API and dispatcher processes.
import { loadConfig, requireSettings } from "@herald/config";
import { type Connection, checkEncryptionKey, connect, migrate } from "@herald/db";
import { exitOnConfigError, startOrExit } from "./process.ts";

const config = exitOnConfigError(() => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl"]);
  return loaded;
});
let connection: Connection | undefined;
const applied = await startOrExit(
  async () => {
    connection = connect(config.databaseUrl!, { max: 1, applicationName: "herald-migrate" });
    const names = await migrate(connection.pool);
    // Given the key, migrate also stores (or checks) its check value, before any process starts.
    if (config.encryptionKey) await checkEncryptionKey(connection.db, config.encryptionKey);
    return names;
  },
  async () => connection?.close(),
);
console.error(applied.length > 0 ? `applied: ${applied.join(", ")}` : "nothing to apply");
await connection!.close();
