import { setTimeout as sleep } from "node:timers/promises";
import { HeraldApiError } from "@herald/sdk";
import type { Command } from "commander";
import { type GlobalOptions, merchantOf, settings } from "../connection.ts";
import { paint, statusColour } from "../output.ts";
import { RelayClient, type RelayedAttempt } from "../relay-client.ts";

/**
 * `herald listen --forward-to URL`: deliveries reach a local server with no public URL. A relay
 * session (a test-mode endpoint) hands each attempt over a stream this process holds open; it is
 * POSTed, signed as Herald signed it, to the local server, and what that server answered becomes
 * the attempt Herald records.
 */

// Headers that describe one hop of a connection, not the delivery: fetch sets its own.
const hopByHop = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "te",
  "upgrade",
]);
const bodyCap = 64 * 1024;
const forwardTimeoutMs = 15_000;

interface Forwarded {
  status: number | null;
  headers?: Record<string, string>;
  body?: string;
  duration_ms: number;
  error?: "connection_refused" | "timeout" | "network";
  error_detail?: string;
}

async function forward(url: string, attempt: RelayedAttempt): Promise<Forwarded> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const headers = Object.fromEntries(
    Object.entries(attempt.headers).filter(([name]) => !hopByHop.has(name.toLowerCase())),
  );
  try {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: attempt.body,
      redirect: "manual",
      signal: AbortSignal.timeout(forwardTimeoutMs),
    });
    const body = (await response.text()).slice(0, bodyCap);
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body,
      duration_ms: elapsed(),
    };
  } catch (error) {
    const codes = JSON.stringify([
      (error as Error).name,
      (error as { cause?: { code?: string } }).cause?.code,
    ]);
    const kind = /ECONNREFUSED/.test(codes)
      ? "connection_refused"
      : /Timeout|Abort/.test(codes)
        ? "timeout"
        : "network";
    const detail = [(error as Error).message, (error as { cause?: Error }).cause?.message]
      .filter(Boolean)
      .join(": ");
    return { status: null, duration_ms: elapsed(), error: kind, error_detail: detail.slice(0, 500) };
  }
}

function eventType(body: string): string {
  try {
    return String((JSON.parse(body) as { type?: unknown }).type ?? "?");
  } catch {
    return "?";
  }
}

async function relayOnce(
  relay: RelayClient,
  sid: string,
  url: string,
  json: boolean | undefined,
  signal: AbortSignal,
) {
  for await (const attempt of relay.stream(sid, signal)) {
    // Each attempt on its own: a slow local answer does not hold up the next one.
    void (async () => {
      const answer = await forward(url, attempt);
      const type = eventType(attempt.body);
      await relay.answer(sid, attempt.id, answer).catch((error: unknown) => {
        process.stderr.write(`${paint("yellow", "answer not recorded:")} ${(error as Error).message}\n`);
      });
      if (json)
        process.stdout.write(
          `${JSON.stringify({ delivery_id: attempt.delivery_id, type, status: answer.status, duration_ms: answer.duration_ms, error: answer.error ?? null })}\n`,
        );
      else {
        const outcome = answer.error
          ? `${statusColour(null)}  ${paint("red", answer.error)}`
          : statusColour(answer.status);
        process.stdout.write(
          `→ ${type}  ${outcome}  ${answer.duration_ms} ms  ${paint("dim", attempt.delivery_id)}\n`,
        );
      }
    })();
  }
}

export function listenCommand(program: Command) {
  program
    .command("listen")
    .description("Forward a relay endpoint's deliveries to a local server, no public URL needed")
    .requiredOption("--forward-to <url>", "the local server, such as http://localhost:3000/webhooks")
    .option("--events <types>", "comma-separated event types (default: all)")
    .option("--session <sid>", "resume a relay session (keeps its endpoint and secret)")
    .action(async (options: { forwardTo: string; events?: string; session?: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const { url, apiKey } = settings(global);
      const relay = new RelayClient(url, apiKey, merchantOf(global));
      let sid = options.session;
      if (!sid) {
        const session = await relay.create(options.events?.split(",").map((t) => t.trim()));
        sid = session.id;
        if (global.json) process.stdout.write(`${JSON.stringify({ ready: true, ...session })}\n`);
        else
          process.stderr.write(
            `Ready: forwarding to ${options.forwardTo}\n` +
              `Session ${session.id}, relay endpoint ${session.endpoint_id}\n` +
              `Signing secret ${paint("bold", session.secret)} (verify with it; resume with --session ${session.id})\n`,
          );
      } else if (global.json) process.stdout.write(`${JSON.stringify({ ready: true, id: sid })}\n`);
      else process.stderr.write(`Ready: forwarding to ${options.forwardTo} (session ${sid})\n`);

      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      for (let failures = 0; !stop.signal.aborted; ) {
        try {
          await relayOnce(relay, sid, options.forwardTo, global.json, stop.signal);
          failures = 0;
        } catch (error) {
          if (stop.signal.aborted) break;
          // A refusal (the session is gone, the key revoked) will not heal by itself.
          if (error instanceof HeraldApiError && error.status < 500) throw error;
          failures++;
        }
        if (stop.signal.aborted) break;
        process.stderr.write(`${paint("yellow", "Stream lost; reconnecting…")}\n`);
        await sleep(Math.min(10_000, 500 * 2 ** failures), undefined, { signal: stop.signal }).catch(
          () => undefined,
        );
      }
    });
}
