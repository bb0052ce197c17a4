#!/usr/bin/env node
import { HeraldApiError } from "@herald/sdk";
import { Command, CommanderError } from "commander";
import cli from "../package.json" with { type: "json" };
import { deliveryCommands } from "./commands/deliveries.ts";
import { emitCommand } from "./commands/emit.ts";
import { endpointCommands } from "./commands/endpoints.ts";
import { keyCommands } from "./commands/keys.ts";
import { listenCommand } from "./commands/listen.ts";
import { merchantCommands } from "./commands/merchants.ts";
import { profileCommands } from "./commands/profiles.ts";
import { recoverCommand } from "./commands/recover.ts";
import { verifyCommand } from "./commands/verify.ts";
import { codeFor, exitCodes, Outcome } from "./exit.ts";
import { paint } from "./output.ts";

const program = new Command("herald")
  .description("Herald from the command line: merchants, endpoints, keys, events and deliveries.")
  .version(cli.version)
  .option("--url <url>", "Herald's base URL (else HERALD_URL, else the profile)")
  .option("--api-key <key>", "an API key (else HERALD_API_KEY, else the profile)")
  .option("--profile <name>", "a saved profile (else HERALD_PROFILE, else default)")
  .option("-m, --merchant <mid>", "the merchant to act on (else HERALD_MERCHANT, else the profile)")
  .option("--json", "JSON output for scripts")
  .showHelpAfterError()
  .exitOverride()
  .addHelpText(
    "after",
    `
Exit codes: 0 done, 2 usage, 3 Herald unreachable, 4 refused (4xx), 5 Herald failing (5xx),
6 signature invalid, 7 operation incomplete.`,
  );

for (const register of [
  merchantCommands,
  endpointCommands,
  keyCommands,
  emitCommand,
  deliveryCommands,
  recoverCommand,
  verifyCommand,
  listenCommand,
  profileCommands,
])
  register(program);
// Every subcommand answers usage errors like the root: exit code 2, help hint, no stack.
for (const command of program.commands) {
  command.exitOverride().showHelpAfterError();
  for (const sub of command.commands) sub.exitOverride().showHelpAfterError();
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? exitCodes.ok : exitCodes.usage);
  if (error instanceof HeraldApiError) {
    const field = error.field ? ` (field: ${error.field})` : "";
    process.stderr.write(`${paint("red", "error:")} ${error.title}: ${error.detail}${field}\n`);
  } else if (!(error instanceof Outcome && !error.message))
    process.stderr.write(`${paint("red", "error:")} ${(error as Error).message}\n`);
  process.exit(codeFor(error));
}
