import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHerald, type TestHerald } from "./support/herald.ts";

const run = promisify(execFile);
const repo = new URL("..", import.meta.url).pathname;

// A plain JavaScript project: no TypeScript, no build, only the two installed tarballs. It runs a
// receiver verifying with @herald/verify, registers it and emits through @herald/sdk.
const program = `
import { createServer } from "node:http";
import { Herald, HeraldApiError } from "@herald/sdk";
import { verify } from "@herald/verify";

const herald = new Herald({ baseUrl: process.env.HERALD_URL, apiKey: process.env.HERALD_API_KEY });
let secret;
const verified = new Promise((resolve) => {
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    try {
      const event = await verify(Buffer.concat(chunks), req.headers, { secret });
      res.writeHead(204).end();
      server.close();
      resolve(event);
    } catch (error) {
      res.writeHead(400).end(error.reason);
    }
  }).listen(0, "127.0.0.1", async () => {
    const merchant = await herald.merchants.create({ name: "Plain JS" });
    const endpoint = await herald.endpoints.create(merchant.id, {
      url: "http://127.0.0.1:" + server.address().port + "/hooks",
      mode: "test",
    });
    secret = endpoint.secret;
    await herald.events.emit(merchant.id, { type: "payment.succeeded", mode: "test", data: { amount: 4999 } });
    const refused = await herald.endpoints.create(merchant.id, { url: "nope" }).catch((e) => e);
    console.log(JSON.stringify({ refused: refused instanceof HeraldApiError && refused.field }));
  });
});
console.log(JSON.stringify({ verified: await verified }));
`;

describe("npm pack of @herald/sdk and @herald/verify installs into a plain JavaScript project", () => {
  let herald: TestHerald;
  let scratch: string;

  beforeAll(async () => {
    herald = await startTestHerald();
    scratch = await mkdtemp(join(tmpdir(), "herald-plain-js-"));
  });
  afterAll(async () => {
    await herald.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it("packs compiled JavaScript with declarations, installs offline, and works against Herald", async () => {
    for (const name of ["sdk", "verify"]) {
      // Packed from a copy beside the package: prepack rewrites package.json for the tarball, and
      // other test files running meanwhile import the real package through it.
      const copy = join(repo, "packages", `.pack-${name}-${process.pid}`);
      await cp(join(repo, "packages", name), copy, {
        recursive: true,
        filter: (source) => !/node_modules|[/\\](dist|test)$/.test(source),
      });
      try {
        await run("npm", ["pack", "--pack-destination", scratch], { cwd: copy });
      } finally {
        await rm(copy, { recursive: true, force: true });
      }
    }
    const tarballs = (await readdir(scratch)).filter((f) => f.endsWith(".tgz")).sort();
    expect(tarballs).toEqual(["herald-sdk-0.1.0.tgz", "herald-verify-0.1.0.tgz"]);
    for (const tarball of tarballs) {
      const { stdout } = await run("tar", ["tzf", join(scratch, tarball)]);
      expect(stdout).toContain("package/dist/index.js");
      expect(stdout).toContain("package/dist/index.d.ts");
      const sources = stdout.split("\n").filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
      expect(sources, "no TypeScript source, which Node would not run from node_modules").toEqual([]);
    }

    await writeFile(
      join(scratch, "package.json"),
      JSON.stringify({ name: "plain", private: true, type: "module" }),
    );
    await writeFile(join(scratch, "main.js"), program);
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs.map((t) => `./${t}`)], {
      cwd: scratch,
    });
    const { stdout } = await run(process.execPath, ["main.js"], {
      cwd: scratch,
      env: { ...process.env, HERALD_URL: herald.url, HERALD_API_KEY: herald.adminKey },
      timeout: 30_000,
    });
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));

    // The README's SDK example, as written, in the same plain project.
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Sending events from code"));
    const example = /```js\n([\s\S]*?)```/.exec(section)![1]!;
    await writeFile(join(scratch, "readme.js"), example);
    const merchant = await herald.api("POST", "/v1/merchants", { name: "README" });
    const readmeRun = await run(process.execPath, ["readme.js"], {
      cwd: scratch,
      env: {
        ...process.env,
        HERALD_URL: herald.url,
        HERALD_API_KEY: herald.adminKey,
        HERALD_MERCHANT: merchant.body.id,
      },
      timeout: 30_000,
    });
    expect(readmeRun.stdout).toMatch(/^validation url /);
    expect(lines).toContainEqual({ refused: "url" });
    expect(lines).toContainEqual({
      verified: expect.objectContaining({ type: "payment.succeeded", data: { amount: 4999 } }),
    });
  });
});
