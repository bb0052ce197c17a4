/**
 * npm pack of a publishable workspace (@herald/sdk, @herald/verify). In the repository a package's
 * `exports` name its `.ts` sources, which Node runs as they are; Node does not strip types inside
 * node_modules, so the tarball must carry JavaScript and declarations instead. `prepack` compiles
 * `src` to `dist` and points `exports` there for the tarball; `postpack` puts package.json back.
 * Run by npm in the package's folder: `node ../../scripts/pack-workspace.ts prepack|postpack`.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const manifest = "package.json";
const saved = ".package.repo.json";
const step = process.argv[2];

if (step === "prepack") {
  rmSync("dist", { recursive: true, force: true });
  const typescript = createRequire(import.meta.url).resolve("typescript/package.json");
  const tsc = join(dirname(typescript), "bin", "tsc");
  execFileSync(
    process.execPath,
    [
      tsc,
      "-p",
      "tsconfig.build.json",
      "--noEmit",
      "false",
      "--outDir",
      "dist",
      "--rootDir",
      "src",
      "--declaration",
      "--rewriteRelativeImportExtensions",
    ],
    { stdio: "inherit" },
  );
  if (!existsSync(saved)) copyFileSync(manifest, saved);
  const pkg = JSON.parse(readFileSync(manifest, "utf8"));
  pkg.exports = { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } };
  pkg.types = "./dist/index.d.ts";
  delete pkg.scripts;
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (step === "postpack") {
  if (existsSync(saved)) renameSync(saved, manifest);
  rmSync("dist", { recursive: true, force: true });
} else {
  throw new Error("usage: pack-workspace.ts prepack|postpack");
}
