import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { connect, type GlobalOptions, merchantOf } from "../connection.ts";
import { UsageError } from "../exit.ts";
import { printRecord, show } from "../output.ts";

/** The event's data: `--data JSON`, `--data-file path`, or JSON on stdin (`--data-file -`). */
function dataOf(options: { data?: string; dataFile?: string }): Record<string, unknown> {
  if (options.data !== undefined && options.dataFile !== undefined)
    throw new UsageError("Give --data or --data-file, not both.");
  const text =
    options.data ??
    (options.dataFile === undefined
      ? "{}"
      : readFileSync(options.dataFile === "-" ? 0 : options.dataFile, "utf8"));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError("The event data is not valid JSON.");
  }
  if (!data || typeof data !== "object" || Array.isArray(data))
    throw new UsageError("The event data must be a JSON object.");
  return data as Record<string, unknown>;
}

export function emitCommand(program: Command) {
  program
    .command("emit")
    .description("Emit an event to the merchant's matching endpoints")
    .argument("<type>", "event type, such as payment.succeeded")
    .option("-d, --data <json>", "the event's data, a JSON object")
    .option("-f, --data-file <path>", "read the data from a file, or - for stdin")
    .option("--mode <mode>", "live or test (default: the key's mode)")
    .option("--idempotency-key <key>", "repeat-safe: a repeat answers the first event (default: generated)")
    .action(
      async (
        type: string,
        options: { data?: string; dataFile?: string; mode?: string; idempotencyKey?: string },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.mode && options.mode !== "live" && options.mode !== "test")
          throw new UsageError("--mode is live or test.");
        const emitted = await connect(global).events.emit(
          merchantOf(global),
          { type, data: dataOf(options), ...(options.mode && { mode: options.mode as "live" | "test" }) },
          { idempotencyKey: options.idempotencyKey },
        );
        show(global, emitted, () => printRecord(emitted));
      },
    );
}
