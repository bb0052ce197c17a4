import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A Node older than Herald needs: the system one on machines that have it (Node 20 here).
const oldNode = "/usr/bin/node";
const oldMajor = existsSync(oldNode)
  ? Number(execFileSync(oldNode, ["-p", "process.versions.node"]).toString().split(".")[0])
  : 99;

/** npm's own CLI, run by this (new) Node, so that only the scripts meet the old one. */
function npmCli(): string | undefined {
  for (const candidate of [
    "/usr/lib/node_modules/npm/bin/npm-cli.js",
    join(dirname(process.execPath), "../lib/node_modules/npm/bin/npm-cli.js"),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return createRequire(import.meta.url).resolve("npm/bin/npm-cli.js");
  } catch {
    return undefined;
  }
}

describe.skipIf(oldMajor >= 22 || !npmCli())(`npm scripts on Node ${oldMajor}`, () => {
  let bin: string;

  // `node` in the scripts resolves to the old Node first on PATH, as on a machine that has only it.
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), "herald-old-node-"));
    await symlink(oldNode, join(bin, "node"));
  });
  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  function npm(...args: string[]) {
    return spawnSync(process.execPath, [npmCli()!, ...args], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: "utf8",
      timeout: 60_000,
    });
  }

  it.each([
    ["start", "22.19.0"],
    ["run migrate", "22.19.0"],
    ["test", "22.22.0"],
  ])("npm %s says in one line which Node it needs, before any .ts file loads", (script, minimum) => {
    const result = npm(...script.split(" "));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^Herald needs Node\\.js ${minimum.replaceAll(".", "\\.")} or newer.*this is Node\\.js ${oldMajor}\\.`,
        "m",
      ),
    );
    expect(result.stderr).not.toMatch(/Unknown file extension|groupBy|^\s+at /m);
  });
});
