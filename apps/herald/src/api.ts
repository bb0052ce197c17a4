// The API alone: run as many as you like against one Postgres.
import { createLogger, loadConfig, requireSettings } from "@herald/config";
import { startHerald } from "./herald.ts";
import { exitOnConfigError, lifecycleLog, startOrExit, stopOnSignals } from "./process.ts";

const role = "herald-api";

const config = exitOnConfigError(role, () => {
  const loaded = loadConfig();
  requireSettings(loaded, ["databaseUrl", "adminKey", "encryptionKey"]);
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
      adminKey: config.adminKey!,
      encryptionKey: config.encryptionKey!,
      api: true,
      dispatcher: false,
    }),
  async () => {},
);
// Installed before the start finishes: a signal meanwhile waits for it, then stops what it started.
stopOnSignals(lifecycle, async () => (await starting).stop());
const herald = await starting;
lifecycle.info({ url: herald.url }, "Herald API listening");
