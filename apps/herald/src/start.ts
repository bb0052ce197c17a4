// `npm start`: everything in one process, with an embedded PostgreSQL when DATABASE_URL is unset.
import { loadConfig } from "@herald/config";
import { startHerald } from "./herald.ts";
import { exitOnConfigError, stopOnSignals } from "./process.ts";
import { dataDir, embeddedDefaults } from "./runtime.ts";

const config = exitOnConfigError(loadConfig);
const embedded = await embeddedDefaults(config);
const herald = await startHerald({ ...embedded, api: true, dispatcher: true });

console.log(`
  Herald is running at ${herald.url}
  Dashboard:      ${herald.url}/ui  (sign in with the admin key)
  API reference:  ${herald.url}/docs
  Admin key:      ${config.adminKey ? "(from HERALD_ADMIN_KEY)" : embedded.adminKey}
  Database:       ${embedded.postgres ? `embedded PostgreSQL in ${dataDir}` : "DATABASE_URL"}
`);

stopOnSignals(async () => {
  await herald.stop();
  await embedded.postgres?.stop();
});
