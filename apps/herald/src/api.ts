// The API alone: run as many as you like against one Postgres.
import { loadConfig, requireSettings } from "@herald/config";
import { startHerald } from "./herald.ts";
import { exitOnConfigError, startOrExit, stopOnSignals } from "./process.ts";

const config = exitOnConfigError(() => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl", "adminKey", "encryptionKey"]);
  return loaded;
});
const herald = await startOrExit(
  () =>
    startHerald({
      config,
      databaseUrl: config.databaseUrl!,
      adminKey: config.adminKey!,
      encryptionKey: config.encryptionKey!,
      api: true,
      dispatcher: false,
    }),
  async () => {},
);
console.error(`Herald API listening at ${herald.url}`);
stopOnSignals(() => herald.stop());
