import type { Merchant } from "@herald/sdk";
import type { Command } from "commander";
import { connect, type GlobalOptions } from "../connection.ts";
import { type Column, printRecord, printTable, show } from "../output.ts";
import { keyValues } from "./parse.ts";

const columns: Column<Merchant>[] = [
  ["id", (m) => m.id],
  ["name", (m) => m.name],
  ["created", (m) => m.created_at],
];

export function merchantCommands(program: Command) {
  const merchants = program
    .command("merchants")
    .description("Tenants: list, create, show, delete (admin key)");
  merchants
    .command("list")
    .description("List merchants")
    .option("--limit <n>", "at most this many", "100")
    .action(async (options: { limit: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const rows: Merchant[] = [];
      for await (const merchant of connect(global).merchants.iterate())
        if (rows.push(merchant) >= Number(options.limit)) break;
      show(global, rows, () => printTable(rows, columns));
    });
  merchants
    .command("create")
    .description("Create a merchant")
    .requiredOption("--name <name>", "its display name")
    .option("--metadata <key=value...>", "your own bookkeeping pairs")
    .action(async (options: { name: string; metadata?: string[] }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const merchant = await connect(global).merchants.create({
        name: options.name,
        ...(options.metadata && { metadata: keyValues(options.metadata) }),
      });
      show(global, merchant, () => printRecord(merchant));
    });
  merchants
    .command("get")
    .description("Show a merchant")
    .argument("<mid>", "merchant id")
    .action(async (mid: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const merchant = await connect(global).merchants.get(mid);
      show(global, merchant, () => printRecord(merchant));
    });
  merchants
    .command("delete")
    .description("Delete a merchant and everything it owns")
    .argument("<mid>", "merchant id")
    .action(async (mid: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      await connect(global).merchants.delete(mid);
      show(global, { deleted: mid }, () => process.stdout.write(`Deleted ${mid}\n`));
    });
}
