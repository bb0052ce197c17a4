// `npm start`: everything in one process, with an embedded PostgreSQL when DATABASE_URL is unset.
import { loadConfig } from "@herald/config";
import { type Herald, startHerald } from "./herald.ts";
import { exitOnConfigError, startOrExit, stopOnSignals } from "./process.ts";
import { type Embedded, embeddedDefaults } from "./runtime.ts";

const config = exitOnConfigError(loadConfig);
let embedded: Embedded | undefined;
let herald: Herald | undefined;
// Installed before anything starts: a Ctrl-C during the start still stops what is running (the
// embedded server's exit hook covers a server caught half-started).
stopOnSignals(async () => {
  await herald?.stop();
  await embedded?.postgres?.stop();
});
await startOrExit(
  async () => {
    embedded = await embeddedDefaults(config);
    herald = await startHerald({ ...embedded, api: true, dispatcher: true });
  },
  // startHerald stops its own parts when it fails; the embedded server is started here.
  async () => embedded?.postgres?.stop(),
);

console.log(`
  Herald is running at ${herald!.url}
  Dashboard:      ${herald!.url}/ui  (sign in with the admin key)
  API reference:  ${herald!.url}/docs
  Admin key:      ${config.adminKey ? "(from HERALD_ADMIN_KEY)" : embedded!.adminKey}
  Database:       ${embedded!.postgres ? `embedded PostgreSQL in ${config.dataDir}` : "DATABASE_URL"}
`);
