import { setTimeout as sleep } from "node:timers/promises";
import type { Operation } from "@herald/sdk";
import { type Command, Option } from "commander";
import { connect, type GlobalOptions, merchantOf } from "../connection.ts";
import { exitCodes, Outcome } from "../exit.ts";
import { paint, printRecord, show } from "../output.ts";
import { time } from "./parse.ts";

/** `[██████░░░░░░] 12/40  ✓ 10  ✗ 2`: redrawn in place on a terminal, one line per change elsewhere. */
function progress(op: Operation): string {
  const width = 30;
  const filled = op.total === 0 ? width : Math.round((op.done / op.total) * width);
  const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
  return `[${bar}] ${op.done}/${op.total}  ${paint("green", `✓ ${op.succeeded}`)}  ${paint("red", `✗ ${op.failed}`)}  ${op.status}`;
}

export function recoverCommand(program: Command) {
  program
    .command("recover")
    .description("Re-send an endpoint's failed deliveries from a time window, showing progress")
    .argument("<eid>", "endpoint id")
    .requiredOption("--since <time>", "ISO 8601 or a duration such as 6h", time)
    .option("--until <time>", "ISO 8601 or a duration (default: now)", time)
    .option("--no-wait", "start it and return at once")
    .addOption(new Option("--interval-ms <ms>", "how often to poll").default("500").hideHelp())
    .action(
      async (
        eid: string,
        options: { since: string; until?: string; wait: boolean; intervalMs: string },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const herald = connect(global);
        const mid = merchantOf(global);
        let op = await herald.endpoints.recover(mid, eid, {
          since: options.since,
          ...(options.until && { until: options.until }),
        });
        const tty = process.stderr.isTTY && !global.json;
        let last = "";
        for (;;) {
          const line = progress(op);
          if (!global.json && line !== last) process.stderr.write(tty ? `\r${line}` : `${line}\n`);
          last = line;
          if (op.status !== "running" || !options.wait) break;
          await sleep(Number(options.intervalMs));
          op = await herald.operations.get(mid, op.id);
        }
        if (tty) process.stderr.write("\n");
        show(global, op, () => printRecord(op));
        if (op.status === "stopped")
          throw new Outcome(
            "Stopped: the endpoint was disabled or deleted first; recover again once it is enabled.",
            exitCodes.incomplete,
          );
      },
    );
}
