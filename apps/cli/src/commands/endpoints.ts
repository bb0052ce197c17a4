import type { Endpoint } from "@herald/sdk";
import type { Command } from "commander";
import { connect, type GlobalOptions, merchantOf } from "../connection.ts";
import { UsageError } from "../exit.ts";
import { type Column, paint, printRecord, printTable, show, statusColour } from "../output.ts";
import { keyValues } from "./parse.ts";

const columns: Column<Endpoint>[] = [
  ["id", (e) => e.id],
  ["mode", (e) => e.mode],
  ["url", (e) => e.url],
  ["events", (e) => (e.event_types.length ? e.event_types.join(",") : "*")],
  ["enabled", (e) => (e.enabled ? paint("green", "yes") : paint("red", `no (${e.disabled_reason})`))],
];

const schemes = ["standard", "hmac-sha256-hex", "hmac-sha512-hex", "standard-ed25519"] as const;

export function endpointCommands(program: Command) {
  const endpoints = program.command("endpoints").description("Where a merchant's events go");
  endpoints
    .command("list")
    .description("List the merchant's endpoints")
    .action(async (_options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const rows: Endpoint[] = [];
      for await (const endpoint of connect(global).endpoints.iterate(merchantOf(global))) rows.push(endpoint);
      show(global, rows, () => printTable(rows, columns));
    });
  endpoints
    .command("create")
    .description("Register an endpoint; its secret is shown once")
    .argument("<url>", "where deliveries are POSTed")
    .option("--events <types>", "comma-separated: payment.succeeded, payment.*, * (default: all)")
    .option("--mode <mode>", "live or test (default: the key's mode)")
    .option("--scheme <scheme>", `signature scheme: ${schemes.join(", ")}`)
    .option("--description <text>", "for people")
    .option("--header <name=value...>", "sent with every delivery")
    .action(
      async (
        url: string,
        options: { events?: string; mode?: string; scheme?: string; description?: string; header?: string[] },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.mode && options.mode !== "live" && options.mode !== "test")
          throw new UsageError("--mode is live or test.");
        if (options.scheme && !(schemes as readonly string[]).includes(options.scheme))
          throw new UsageError(`--scheme is one of ${schemes.join(", ")}.`);
        const endpoint = await connect(global).endpoints.create(merchantOf(global), {
          url,
          ...(options.events && { event_types: options.events.split(",").map((t) => t.trim()) }),
          ...(options.mode && { mode: options.mode as "live" | "test" }),
          ...(options.scheme && { signature_scheme: options.scheme as (typeof schemes)[number] }),
          ...(options.description && { description: options.description }),
          ...(options.header && { headers: keyValues(options.header) }),
        });
        show(global, endpoint, () => {
          printRecord(endpoint);
          // An Ed25519 endpoint's "secret" is its public key: shown with the endpoint at any time.
          if (endpoint.signature_scheme !== "standard-ed25519")
            process.stderr.write(`${paint("yellow", "Store the secret now: it is not shown again.")}\n`);
        });
      },
    );
  endpoints
    .command("get")
    .description("Show an endpoint")
    .argument("<eid>", "endpoint id")
    .action(async (eid: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const endpoint = await connect(global).endpoints.get(merchantOf(global), eid);
      show(global, endpoint, () => printRecord(endpoint));
    });
  for (const [verb, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const)
    endpoints
      .command(verb)
      .description(
        enabled ? "Resume deliveries (what was missed is not sent: use recover)" : "Stop deliveries",
      )
      .argument("<eid>", "endpoint id")
      .action(async (eid: string, _options: unknown, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const endpoint = await connect(global).endpoints.update(merchantOf(global), eid, { enabled });
        show(global, endpoint, () => printRecord(endpoint));
      });
  endpoints
    .command("delete")
    .description("Delete an endpoint; its pending deliveries are cancelled")
    .argument("<eid>", "endpoint id")
    .action(async (eid: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      await connect(global).endpoints.delete(merchantOf(global), eid);
      show(global, { deleted: eid }, () => process.stdout.write(`Deleted ${eid}\n`));
    });
  endpoints
    .command("rotate-secret")
    .description("A new signing secret; the old ones keep signing for the grace period")
    .argument("<eid>", "endpoint id")
    .option("--grace-hours <hours>", "how long the old secrets keep signing", "24")
    .action(async (eid: string, options: { graceHours: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const rotated = await connect(global).endpoints.rotateSecret(merchantOf(global), eid, {
        grace_period_hours: Number(options.graceHours),
      });
      show(global, rotated, () => printRecord(rotated));
    });
  endpoints
    .command("test")
    .description("Send a test event to this endpoint now and show the answer")
    .argument("<eid>", "endpoint id")
    .option("--type <type>", "event type (default herald.test)")
    .action(async (eid: string, options: { type?: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const sent = await connect(global).endpoints.test(
        merchantOf(global),
        eid,
        options.type ? { type: options.type } : undefined,
      );
      show(global, sent, () => {
        const attempt = sent.attempt;
        if (!attempt) process.stdout.write(`Sent ${sent.delivery_id}; no attempt yet.\n`);
        else
          process.stdout.write(
            `${statusColour(attempt.response_status)}  ${attempt.duration_ms} ms  ${attempt.error ?? ""}  ${sent.delivery_id}\n`,
          );
      });
    });
}
