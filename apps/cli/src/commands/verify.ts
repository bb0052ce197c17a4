import { readFileSync } from "node:fs";
import { type SignatureScheme, verify, WebhookVerificationError } from "@herald/verify";
import type { Command } from "commander";
import type { GlobalOptions } from "../connection.ts";
import { exitCodes, Outcome, UsageError } from "../exit.ts";
import { paint, show } from "../output.ts";

interface SavedRequest {
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * A saved request: raw HTTP (`POST /hooks HTTP/1.1`, headers, blank line, body), or JSON with
 * `headers` and `body` such as an attempt's `request` from `herald deliveries get --json`.
 */
export function parseSaved(bytes: Buffer): SavedRequest {
  const text = bytes.toString("utf8");
  if (/^\s*\{/.test(text)) {
    let saved: {
      headers?: Record<string, string>;
      body?: string;
      request?: { headers?: Record<string, string>; body?: string };
    };
    try {
      saved = JSON.parse(text);
    } catch {
      throw new UsageError("The saved request looks like JSON but does not parse.");
    }
    const request = saved.request ?? saved;
    if (!request.headers || typeof request.body !== "string")
      throw new UsageError("A saved JSON request needs `headers` and a string `body`.");
    return { headers: lower(request.headers), body: Buffer.from(request.body, "utf8") };
  }
  let split = bytes.indexOf("\r\n\r\n");
  let gap = 4;
  if (split < 0) {
    split = bytes.indexOf("\n\n");
    gap = 2;
  }
  if (split < 0) throw new UsageError("The saved request has no blank line between headers and body.");
  const [, ...lines] = bytes.subarray(0, split).toString("utf8").split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { headers, body: bytes.subarray(split + gap) };
}

const schemes = ["standard", "hmac-sha256-hex", "hmac-sha512-hex", "standard-ed25519"] as const;

const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

export function verifyCommand(program: Command) {
  program
    .command("verify")
    .description("Check a saved request's signature against an endpoint secret")
    .argument("[file]", "raw HTTP request or JSON {headers, body}; - or nothing for stdin", "-")
    .option(
      "--secret <secret...>",
      "the endpoint secret(s) or whpk_ public key(s) (or HERALD_WEBHOOK_SECRET)",
    )
    .option(
      "--scheme <scheme>",
      `${schemes.join(", ")}; standard-ed25519 when every key is whpk_, else standard`,
    )
    .option("--signature-header <name>", "the hex schemes' header", "x-signature")
    .option("--tolerance <seconds>", "how old webhook-timestamp may be; raise it for old captures", "300")
    .action(
      async (
        file: string,
        options: { secret?: string[]; scheme?: string; signatureHeader: string; tolerance: string },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const secret = options.secret ?? process.env.HERALD_WEBHOOK_SECRET?.split(",");
        if (!secret?.length) throw new UsageError("Pass --secret or set HERALD_WEBHOOK_SECRET.");
        if (options.scheme !== undefined && !(schemes as readonly string[]).includes(options.scheme))
          throw new UsageError(`--scheme is one of ${schemes.join(", ")}.`);
        const saved = parseSaved(readFileSync(file === "-" ? 0 : file));
        try {
          const event = await verify(saved.body, saved.headers, {
            secret,
            ...(options.scheme && { scheme: options.scheme as SignatureScheme }),
            signatureHeader: options.signatureHeader,
            toleranceSeconds: Number(options.tolerance),
          });
          show(global, { valid: true, event }, () =>
            process.stdout.write(`${paint("green", "valid")}  ${event.type}  ${event.id}\n`),
          );
        } catch (error) {
          if (!(error instanceof WebhookVerificationError)) throw error;
          show(global, { valid: false, reason: error.reason, message: error.message }, () =>
            process.stdout.write(`${paint("red", "invalid")}  ${error.reason}: ${error.message}\n`),
          );
          throw new Outcome("", exitCodes.verificationFailed);
        }
      },
    );
}
