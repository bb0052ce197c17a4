// The dispatcher alone: run as many as you like against one Postgres; they share the work.
import { loadConfig, requireSettings } from "@herald/config";
import { startHerald } from "./herald.ts";
import { exitOnConfigError, startOrExit, stopOnSignals } from "./process.ts";

const config = exitOnConfigError(() => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl", "encryptionKey"]);
  return loaded;
});
const starting = startOrExit(
  () =>
    startHerald({
      config,
      databaseUrl: config.databaseUrl!,
      adminKey: "",
      encryptionKey: config.encryptionKey!,
      api: false,
      dispatcher: true,
    }),
  async () => {},
);
// Installed before the start finishes: a signal meanwhile waits for it, then stops what it started.
stopOnSignals(async () => (await starting).stop());
await starting;
console.error("Herald dispatcher running");
