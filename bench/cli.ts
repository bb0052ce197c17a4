/** What `npm run bench` and `npm run drill` share: their flags and their timestamped progress lines. */
export interface RunOptions {
  quick: boolean;
  profile: boolean;
  /** The scenarios or drills to run; all when undefined. */
  only: string[] | undefined;
  log(message: string): void;
}

/** Reads the flags; an unknown name in `--only=` exits with status 2 and the names there are. */
export function runOptions(what: string, names: string[]): RunOptions {
  const args = process.argv.slice(2);
  const only = args
    .find((a) => a.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",");
  const unknown = only?.filter((name) => !names.includes(name)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown ${what} ${unknown.join(", ")}; choose from ${names.join(", ")}`);
    process.exit(2);
  }
  const started = performance.now();
  return {
    quick: args.includes("--quick"),
    profile: args.includes("--profile"),
    only,
    log: (message) =>
      console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`),
  };
}
