// What a process writes on stdout: JSON lines for a log collector, readable lines on a terminal.
// Real child processes, because the choice depends on what stdout is.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const logModule = fileURLToPath(new URL("../packages/config/src/log.ts", import.meta.url));
const program = `
  import { createLogger } from ${JSON.stringify(logModule)};
  const log = createLogger("info", "dispatcher");
  log.info({ endpoint: { secret: "whsec_leak" }, key: "hk_leak" }, "attempt sent");
  log.debug("below the level");
  process.exit(0);
`;

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

describe("log lines", () => {
  it("are one JSON object per line when stdout is not a terminal, secrets redacted", async () => {
    const stdout = await run(process.execPath, ["--input-type=module", "-e", program]);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 30, service: "dispatcher", msg: "attempt sent" });
    expect(record.endpoint.secret).toBe("[redacted]");
    expect(stdout).not.toContain("leak");
  });

  it("are readable, still redacted, when stdout is a terminal", async () => {
    // `script` gives the child a pseudo-terminal, as a developer's shell would.
    const command = [process.execPath, "--input-type=module", "-e", program]
      .map((part) => `'${part.replaceAll("'", "'\\''")}'`)
      .join(" ");
    const stdout = await run("script", ["-qec", command, "/dev/null"]);
    const lines = stdout.replaceAll("\r", "").trimEnd().split("\n");
    // The message line, then the record's fields indented beneath it; nothing below the level.
    expect(lines.filter((line) => !line.startsWith(" "))).toHaveLength(1);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(lines[0]).toMatch(/INFO.*attempt sent/);
    expect(stdout).toContain("[redacted]");
    expect(stdout).not.toContain("leak");
  });
});
