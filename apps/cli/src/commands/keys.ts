import type { ApiKey } from "@herald/sdk";
import type { Command } from "commander";
import { connect, type GlobalOptions, merchantOf } from "../connection.ts";
import { UsageError } from "../exit.ts";
import { type Column, paint, printRecord, printTable, show } from "../output.ts";

const columns: Column<ApiKey>[] = [
  ["id", (k) => k.id],
  ["mode", (k) => k.mode],
  ["key", (k) => `${k.prefix}…${k.last4}`],
  ["created", (k) => k.created_at],
  ["revoked", (k) => k.revoked_at],
];

function mode(value: string): "live" | "test" {
  if (value !== "live" && value !== "test") throw new UsageError("--mode is live or test.");
  return value;
}

export function keyCommands(program: Command) {
  const keys = program
    .command("keys")
    .description("A merchant's API keys: list, create, rotate, revoke (admin key)");
  keys
    .command("list")
    .description("List the merchant's keys (prefix and last 4 only)")
    .action(async (_options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const rows: ApiKey[] = [];
      for await (const key of connect(global).apiKeys.iterate(merchantOf(global))) rows.push(key);
      show(global, rows, () => printTable(rows, columns));
    });
  keys
    .command("create")
    .description("Create a key; it is shown once")
    .option("--mode <mode>", "live or test", "test")
    .action(async (options: { mode: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const key = await connect(global).apiKeys.create(merchantOf(global), { mode: mode(options.mode) });
      show(global, key, () => {
        printRecord(key);
        process.stderr.write(`${paint("yellow", "Store the key now: it is not shown again.")}\n`);
      });
    });
  keys
    .command("rotate")
    .description("Create a key of the same mode, then revoke this one")
    .argument("<kid>", "the key id to replace")
    .action(async (kid: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const herald = connect(global);
      const mid = merchantOf(global);
      let old: ApiKey | undefined;
      for await (const key of herald.apiKeys.iterate(mid)) if (key.id === kid) old = key;
      if (!old) throw new UsageError(`No key ${kid} for merchant ${mid}.`);
      if (old.revoked_at) throw new UsageError(`Key ${kid} is already revoked.`);
      // The new key exists before the old one stops working, so a deploy can switch without a gap.
      const created = await herald.apiKeys.create(mid, { mode: old.mode });
      await herald.apiKeys.revoke(mid, kid);
      show(global, { ...created, replaced: kid }, () => {
        printRecord({ ...created, replaced: kid });
        process.stderr.write(`${paint("yellow", "Store the key now: it is not shown again.")}\n`);
      });
    });
  keys
    .command("revoke")
    .description("Revoke a key now")
    .argument("<kid>", "key id")
    .action(async (kid: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      await connect(global).apiKeys.revoke(merchantOf(global), kid);
      show(global, { revoked: kid }, () => process.stdout.write(`Revoked ${kid}\n`));
    });
}
