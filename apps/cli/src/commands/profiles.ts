import type { Command } from "commander";
import { type GlobalOptions, profileFile, readProfiles, saveProfile } from "../connection.ts";
import { UsageError } from "../exit.ts";
import { printTable, show } from "../output.ts";

export function profileCommands(program: Command) {
  const profiles = program.command("profiles").description(`Saved connections, in ${profileFile()}`);
  profiles
    .command("list")
    .description("List saved profiles (keys shortened)")
    .action((_options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const rows = Object.entries(readProfiles()).map(([name, p]) => ({
        name,
        url: p.url,
        merchant: p.merchant,
        api_key: p.api_key ? `${p.api_key.slice(0, 8)}…${p.api_key.slice(-4)}` : undefined,
      }));
      show(global, rows, () =>
        printTable(rows, [
          ["name", (r) => r.name],
          ["url", (r) => r.url],
          ["merchant", (r) => r.merchant],
          ["key", (r) => r.api_key],
        ]),
      );
    });
  profiles
    .command("save")
    .description("Save --url, --api-key and --merchant under a name (default: default)")
    .argument("[name]", "profile name", "default")
    .action((name: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      if (!global.url || !global.apiKey) throw new UsageError("profiles save needs --url and --api-key.");
      const file = saveProfile(name, { url: global.url, api_key: global.apiKey, merchant: global.merchant });
      show(global, { saved: name, file }, () => process.stdout.write(`Saved profile ${name} in ${file}\n`));
    });
}
