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
const herald = await startOrExit(
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
lifecycle.info({ url: herald.url }, "Herald API listening");
stopOnSignals(lifecycle, () => herald.stop());
