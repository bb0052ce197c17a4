// `npm start`: everything in one process, with an embedded PostgreSQL when DATABASE_URL is unset.
import { createLogger, loadConfig } from "@herald/config";
import { type Herald, startHerald } from "./herald.ts";
import { exitOnConfigError, lifecycleLog, startOrExit, stopOnSignals } from "./process.ts";
import { type Embedded, embeddedDefaults, keysFileIn } from "./runtime.ts";

const role = "herald";
const config = exitOnConfigError(role, loadConfig);
const log = createLogger(config.logLevel, role);
const lifecycle = lifecycleLog(log);
let embedded: Embedded | undefined;
let herald: Herald | undefined;
// Installed before anything starts: a Ctrl-C during the start still stops what is running (the
// embedded server's exit hook covers a server caught half-started).
stopOnSignals(lifecycle, async () => {
  await herald?.stop();
  await embedded?.postgres?.stop();
});
await startOrExit(
  lifecycle,
  async () => {
    embedded = await embeddedDefaults(config);
    herald = await startHerald({ ...embedded, log, api: true, dispatcher: true });
  },
  // startHerald stops its own parts when it fails; the embedded server is started here.
  async () => embedded?.postgres?.stop(),
);

const url = herald!.url!;
// The log line says where the admin key is, never the key.
lifecycle.info(
  {
    url,
    dashboard: `${url}/ui`,
    docs: `${url}/docs`,
    admin_key_from: config.adminKey ? "HERALD_ADMIN_KEY" : keysFileIn(config.dataDir),
    database: embedded!.postgres ? `embedded PostgreSQL in ${config.dataDir}` : "DATABASE_URL",
  },
  "Herald is running",
);
// The same as a card for the person who ran `npm start`, with the generated key to sign in with:
// on stderr, so that stdout stays a stream of JSON records. The key is printed only when this
// process generated it (embedded mode); one from HERALD_ADMIN_KEY is never echoed.
process.stderr.write(`
  Herald is running at ${url}
  Dashboard:      ${url}/ui  (sign in with the admin key)
  API reference:  ${url}/docs
  Admin key:      ${config.adminKey ? "(from HERALD_ADMIN_KEY)" : embedded!.adminKey}
  Database:       ${embedded!.postgres ? `embedded PostgreSQL in ${config.dataDir}` : "DATABASE_URL"}

`);
