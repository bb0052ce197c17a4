// The registry mirror this project is developed against serves only the Linux builds of packages
// that ship per-platform binaries (Biome, Turborepo). npm then leaves the other platforms' optional
// packages out of package-lock.json, and `npm ci` refuses the lockfile as "out of sync".
// Run after `npm install` changes the lockfile: it records each missing optional package by
// version, which npm ci accepts.
//
// Each record also carries the package's `os`, `cpu` and `libc`: npm decides from the lockfile
// alone whether a platform package belongs on this machine, and a record without them matches
// every platform, so `npm ci` on Linux fetched all of Biome's and Turborepo's binaries (1.3 GB).
// The fields come from the registry when it answers, else from the package's name, which for
// these packages always spells the platform (`@biomejs/cli-linux-x64-musl`, `@turbo/windows-64`).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

interface Platform {
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

const osNames: Record<string, string> = {
  android: "android",
  darwin: "darwin",
  macos: "darwin",
  freebsd: "freebsd",
  linux: "linux",
  netbsd: "netbsd",
  openbsd: "openbsd",
  openharmony: "openharmony",
  sunos: "sunos",
  aix: "aix",
  win32: "win32",
  windows: "win32",
};
const cpuNames: Record<string, string> = {
  x64: "x64",
  "64": "x64",
  amd64: "x64",
  arm64: "arm64",
  aarch64: "arm64",
  arm: "arm",
  ia32: "ia32",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips64el: "mips64el",
};

/** The platform a package's name spells, or nothing when the name names none. */
export function platformFromName(name: string): Platform {
  const words = name.toLowerCase().split(/[/@-]/);
  const os = words.map((word) => osNames[word]).find(Boolean);
  const cpu = words.map((word) => cpuNames[word]).find(Boolean);
  if (!os || !cpu) return {};
  const platform: Platform = { os: [os], cpu: [cpu] };
  if (words.includes("musl")) platform.libc = ["musl"];
  else if (words.includes("gnu") || words.includes("glibc")) platform.libc = ["glibc"];
  return platform;
}

function platformFromRegistry(name: string, version: string): Platform | undefined {
  try {
    const out = execFileSync("npm", ["view", `${name}@${version}`, "os", "cpu", "libc", "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 30_000,
    });
    const fields = out.trim() ? (JSON.parse(out) as Platform) : {};
    return {
      ...(fields.os && { os: [fields.os].flat() }),
      ...(fields.cpu && { cpu: [fields.cpu].flat() }),
      ...(fields.libc && { libc: [fields.libc].flat() }),
    };
  } catch {
    return undefined;
  }
}

/** Records every missing optional package of `lock`, and gives each record its platform. */
export function completeLockfile(
  // biome-ignore lint/suspicious/noExplicitAny: package-lock.json read as plain JSON
  lock: { packages: Record<string, any> },
  options: { offline?: boolean } = {},
): { added: number; completed: number } {
  let added = 0;
  let completed = 0;
  for (const meta of Object.values<Record<string, unknown>>({ ...lock.packages })) {
    const optional = (meta.optionalDependencies ?? {}) as Record<string, string>;
    for (const [name, range] of Object.entries(optional)) {
      const key = `node_modules/${name}`;
      const existing = lock.packages[key] as Record<string, unknown> | undefined;
      // Entries npm wrote itself (with `integrity`) already say their platform.
      if (existing && (existing.integrity || existing.os || existing.cpu)) continue;
      const version = (existing?.version as string | undefined) ?? range;
      const platform = (!options.offline && platformFromRegistry(name, version)) || platformFromName(name);
      lock.packages[key] = { version, dev: meta.dev, optional: true, ...platform };
      if (existing) completed++;
      else added++;
    }
  }
  return { added, completed };
}

if (import.meta.main) {
  const file = new URL("../package-lock.json", import.meta.url);
  const lock = JSON.parse(readFileSync(file, "utf8"));
  const { added, completed } = completeLockfile(lock, { offline: process.argv.includes("--offline") });
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(
    `complete-lockfile: recorded ${added} optional platform package(s), gave ${completed} their platform`,
  );
}
