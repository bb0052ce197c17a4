// The registry mirror this project is developed against serves only the Linux builds of packages
// that ship per-platform binaries (Biome, Turborepo). npm then leaves the other platforms' optional
// packages out of package-lock.json, and `npm ci` refuses the lockfile as "out of sync".
// Run after `npm install` changes the lockfile: it records each missing optional package by
// version only, which npm ci accepts and, on a platform that has no use for it, skips.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
let added = 0;
for (const meta of Object.values<Record<string, unknown>>({ ...lock.packages })) {
  const optional = (meta.optionalDependencies ?? {}) as Record<string, string>;
  for (const [name, version] of Object.entries(optional)) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    lock.packages[key] = { version, dev: meta.dev, optional: true };
    added++;
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: recorded ${added} optional platform package(s)`);
