// Applies pending migrations and exits: run it before rolling out new API and dispatcher processes.
import { loadConfig, requireSettings } from "@herald/config";
import { connect, migrate } from "@herald/db";
import { exitOnConfigError } from "./process.ts";

const config = exitOnConfigError(() => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl"]);
  return loaded;
});
const connection = connect(config.databaseUrl!, { max: 1, applicationName: "herald-migrate" });
const applied = await migrate(connection.pool);
console.error(applied.length > 0 ? `applied: ${applied.join(", ")}` : "nothing to apply");
await connection.close();
