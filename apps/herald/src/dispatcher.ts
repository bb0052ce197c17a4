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
const herald = await startOrExit(
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
lifecycle.info("Herald dispatcher running");
stopOnSignals(lifecycle, () => herald.stop());
