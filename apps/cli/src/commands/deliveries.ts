import { setTimeout as sleep } from "node:timers/promises";
import type { Delivery, EndpointAttempt, Herald } from "@herald/sdk";
import { type Command, Option } from "commander";
import { connect, type GlobalOptions, merchantOf } from "../connection.ts";
import {
  type Column,
  deliveryStatus,
  paint,
  printRecord,
  printTable,
  show,
  statusColour,
} from "../output.ts";
import { count, time } from "./parse.ts";

const columns: Column<Delivery>[] = [
  ["id", (d) => d.id],
  ["event", (d) => d.event_type],
  ["endpoint", (d) => d.endpoint_id],
  ["status", (d) => deliveryStatus(d.status)],
  ["attempts", (d) => d.attempt_count],
  ["last", (d) => (d.last_error ? `${d.last_status ?? ""} ${d.last_error}`.trim() : d.last_status)],
  ["created", (d) => d.created_at],
];

// Checked against the API's own list through the generated types.
const statuses = [
  "pending",
  "succeeded",
  "failed",
  "cancelled",
] as const satisfies readonly Delivery["status"][];

/** `→ payment.succeeded  200  12 ms`, as a person reads an attempt. */
function attemptLine(a: EndpointAttempt): string {
  const outcome = a.error
    ? `${statusColour(a.response_status)}  ${paint("red", a.error)}`
    : statusColour(a.response_status);
  const when = paint("dim", a.started_at.slice(11, 19));
  return `${when}  → ${a.event_type}  ${outcome}  ${a.duration_ms} ms  ${paint("dim", `${a.delivery_id} #${a.number} ${a.trigger}`)}\n`;
}

/**
 * Prints attempts as Herald makes them, across the merchant's endpoints (or one): the latest
 * first, then, with `follow`, each new one as a poll finds it, oldest first. JSON: one line each.
 */
async function tail(
  herald: Herald,
  mid: string,
  options: { endpoint?: string; follow?: boolean; limit: number; intervalMs: number; json?: boolean },
) {
  const seen = new Set<string>();
  const endpointIds = async () => {
    if (options.endpoint) return [options.endpoint];
    const ids: string[] = [];
    for await (const endpoint of herald.endpoints.iterate(mid)) ids.push(endpoint.id);
    return ids;
  };
  const print = (attempt: EndpointAttempt) => {
    if (options.json) process.stdout.write(`${JSON.stringify(attempt)}\n`);
    else process.stdout.write(attemptLine(attempt));
  };
  let ids = await endpointIds();
  for (let poll = 0; ; poll++) {
    const pages = await Promise.all(
      ids.map((eid) => herald.endpoints.attempts(mid, eid, { limit: poll === 0 ? options.limit : 100 })),
    );
    const fresh = pages
      .flatMap((page) => page.data)
      .filter((a) => !seen.has(a.id))
      .sort((a, b) => a.started_at.localeCompare(b.started_at) || a.id.localeCompare(b.id));
    for (const attempt of poll === 0 ? fresh.slice(-options.limit) : fresh) print(attempt);
    for (const attempt of fresh) seen.add(attempt.id);
    if (!options.follow) return;
    await sleep(options.intervalMs);
    // Endpoints registered while tailing are picked up too.
    if (poll % 10 === 9) ids = await endpointIds();
  }
}

export function deliveryCommands(program: Command) {
  const deliveries = program
    .command("deliveries")
    .description("Each event's trip to each endpoint, with its attempts");
  deliveries
    .command("list")
    .description("List deliveries, newest first")
    .option("--status <status>", statuses.join(", "))
    .option("--endpoint <eid>", "only this endpoint's")
    .option("--event <evid>", "only this event's")
    .option("--type <type>", "only this event type")
    .option("--since <time>", "ISO 8601 or a duration such as 2h", time)
    .option("--limit <n>", "at most this many", count, 20)
    .action(
      async (
        options: {
          status?: (typeof statuses)[number];
          endpoint?: string;
          event?: string;
          type?: string;
          since?: string;
          limit: number;
        },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const rows: Delivery[] = [];
        const query = {
          status: options.status,
          endpoint_id: options.endpoint,
          event_id: options.event,
          event_type: options.type,
          since: options.since,
          limit: Math.min(options.limit, 100),
        };
        for await (const delivery of connect(global).deliveries.iterate(merchantOf(global), query))
          if (rows.push(delivery) >= options.limit) break;
        show(global, rows, () => printTable(rows, columns));
      },
    );
  deliveries
    .command("get")
    .description("Show a delivery with its attempts")
    .argument("<did>", "delivery id")
    .action(async (did: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const delivery = await connect(global).deliveries.get(merchantOf(global), did);
      show(global, delivery, () => {
        const { attempts, ...rest } = delivery;
        printRecord({ ...rest, status: deliveryStatus(rest.status) });
        process.stdout.write("\n");
        printTable(attempts, [
          ["#", (a) => a.number],
          ["trigger", (a) => a.trigger],
          ["started", (a) => a.started_at],
          ["status", (a) => statusColour(a.response_status)],
          ["ms", (a) => a.duration_ms],
          ["error", (a) => a.error],
        ]);
      });
    });
  deliveries
    .command("tail")
    .description("Show the latest attempts; with --follow, each new attempt as it happens")
    .option("--follow", "keep watching (Ctrl-C to stop)")
    .option("--endpoint <eid>", "only this endpoint")
    .option("--limit <n>", "how many recent attempts first", count, 10)
    .addOption(new Option("--interval-ms <ms>", "how often to poll").default("1000").hideHelp())
    .action(
      async (
        options: { follow?: boolean; endpoint?: string; limit: number; intervalMs?: string },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        process.once("SIGINT", () => process.exit(0));
        await tail(connect(global), merchantOf(global), {
          ...options,
          json: global.json,
          intervalMs: Number(options.intervalMs),
        });
      },
    );

  program
    .command("retry")
    .description("Retry a delivery now, outside its schedule")
    .argument("<did>", "delivery id")
    .action(async (did: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const delivery = await connect(global).deliveries.retry(merchantOf(global), did);
      show(global, delivery, () =>
        process.stdout.write(`Retrying ${did}: ${deliveryStatus(delivery.status)}\n`),
      );
    });
}
