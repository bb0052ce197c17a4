// The dispatcher alone: run as many as you like against one Postgres; they share the work.
import { createLogger, loadConfig, requireSettings } from "@herald/config";
import { startHerald } from "./herald.ts";
import { exitOnConfigError, lifecycleLog, startOrExit, stopOnSignals } from "./process.ts";

const role = "herald-dispatcher";

const config = exitOnConfigError(role, () => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl", "encryptionKey"]);
  return loaded;
});
const log = createLogger(config.logLevel, role);
const lifecycle = lifecycleLog(log);
const starting = startOrExit(
  lifecycle,
  () =>
    startHerald({
      config,
      log,
      databaseUrl: config.databaseUrl!,
      adminKey: "",
      encryptionKey: config.encryptionKey!,
      api: false,
      dispatcher: true,
    }),
  async () => {},
);
// Installed before the start finishes: a signal meanwhile waits for it, then stops what it started.
stopOnSignals(lifecycle, async () => (await starting).stop());
await starting;
lifecycle.info("Herald dispatcher running");
