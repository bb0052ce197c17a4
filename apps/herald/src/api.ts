// The API alone: run as many as you like against one Postgres.
import { loadConfig, requireSettings } from "@herald/config";
import { startHerald } from "./herald.ts";
import { exitOnConfigError, startOrExit, stopOnSignals } from "./process.ts";

const config = exitOnConfigError(() => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl", "adminKey", "encryptionKey"]);
  return loaded;
});
const starting = startOrExit(
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
// Installed before the start finishes: a signal meanwhile waits for it, then stops what it started.
stopOnSignals(async () => (await starting).stop());
const herald = await starting;
console.error(`Herald API listening at ${herald.url}`);
