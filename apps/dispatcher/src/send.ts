import { type Dispatcher, request } from "undici";
import type { DnsCache } from "./dns.ts";
import { isBlockedTarget } from "./guarded-agent.ts";

/** How much of a response body is read and kept; reading stops there. */
export const responseBodyCap = 64 * 1024;

export interface Sent {
  startedAt: Date;
  durationMs: number;
  status: number | null;
  headers: Record<string, string> | null;
  /** The first `responseBodyCap` bytes of the body, as received. */
  body: Buffer | null;
  /** An error class when the attempt failed without a usable response. */
  error: string | null;
  errorDetail: string | null;
}

/**
 * One POST: connect, send, read the answer, all inside `timeoutMs`. Never throws; whatever went
 * wrong is classified for the attempt log. Redirects are not followed: a 3xx is a failure, and its
 * `Location` stays in the recorded headers.
 */
export async function send(
  agent: Dispatcher,
  target: {
    url: string;
    headers: Record<string, string>;
    body: string;
    timeoutMs: number;
    /** Cuts the attempt short (a shutdown that could not wait for it). */
    abort?: AbortSignal;
    /**
     * The agent's resolver: the name is looked up here first, inside the attempt's time, so a slow
     * nameserver is this attempt's `dns` failure. The agent's connector then finds the answer cached,
     * and checks the address it actually connects to.
     */
    dns?: DnsCache;
  },
): Promise<Sent> {
  const startedAt = new Date();
  const started = performance.now();
  const done = (partial: Partial<Sent>): Sent => ({
    startedAt,
    durationMs: Math.round(performance.now() - started),
    status: null,
    headers: null,
    body: null,
    error: null,
    errorDetail: null,
    ...partial,
  });
  let status: number | null = null;
  let headers: Record<string, string> | null = null;
  // One controller and a cleared timer per attempt: AbortSignal.timeout and AbortSignal.any keep
  // native memory alive long after the attempt (measured: the dispatcher's RSS grew with every
  // attempt sent, docs/benchmarks.md).
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("attempt timed out", "TimeoutError")),
    target.timeoutMs,
  );
  const cutShort = () => controller.abort(target.abort?.reason);
  target.abort?.addEventListener("abort", cutShort, { once: true });
  try {
    if (target.dns) {
      try {
        await target.dns.lookup(new URL(target.url).hostname.replace(/^\[(.*)\]$/, "$1"), controller.signal);
      } catch (error) {
        return done({ error: "dns", errorDetail: describe(error) });
      }
    }
    const response = await request(target.url, {
      method: "POST",
      headers: target.headers,
      body: target.body,
      dispatcher: agent,
      signal: controller.signal,
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs,
    });
    status = response.statusCode;
    headers = flatten(response.headers);
    const body = await readCapped(response.body);
    const error = status >= 300 && status < 400 ? "redirect" : null;
    return done({
      status,
      headers,
      body,
      error,
      errorDetail: error && `redirect to ${headers.location ?? "(no location)"} not followed`,
    });
  } catch (error) {
    return done({ status, headers, error: classify(error), errorDetail: describe(error) });
  } finally {
    clearTimeout(timer);
    target.abort?.removeEventListener("abort", cutShort);
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= responseBodyCap) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, responseBodyCap);
}

/** One string per header; built as entries, so a receiver's header named `__proto__` stays a header. */
function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, (Array.isArray(value) ? value.join(", ") : value).slice(0, 2048)]],
    ),
  );
}

function codes(error: unknown): string[] {
  const found: string[] = [];
  for (
    let e = error as { code?: unknown; name?: unknown; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (typeof e.code === "string") found.push(e.code);
    if (typeof e.name === "string") found.push(e.name);
    if (found.length > 10) break;
  }
  return found;
}

/** The error class of a failed attempt, from the codes Node and undici give. */
export function classify(error: unknown): string {
  if (isBlockedTarget(error)) return "blocked_target";
  const all = codes(error);
  const has = (...names: string[]) => all.some((code) => names.some((n) => code === n || code.startsWith(n)));
  if (
    has(
      "TimeoutError",
      "AbortError",
      "UND_ERR_HEADERS_TIMEOUT",
      "UND_ERR_BODY_TIMEOUT",
      "UND_ERR_CONNECT_TIMEOUT",
      "ETIMEDOUT",
    )
  ) {
    return "timeout";
  }
  if (has("ECONNREFUSED")) return "connection_refused";
  if (has("ENOTFOUND", "EAI_AGAIN", "EAI_")) return "dns";
  if (has("ERR_TLS", "ERR_SSL", "CERT_", "UNABLE_TO_", "DEPTH_ZERO", "SELF_SIGNED", "ERR_OSSL")) return "tls";
  if (has("HTTPParserError", "HPE_", "UND_ERR_INFO", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH")) {
    return "invalid_response";
  }
  if (has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED")) return "connection_reset";
  return "network";
}

function describe(error: unknown): string {
  const messages: string[] = [];
  for (
    let e = error as { message?: unknown; cause?: unknown } | undefined;
    e && messages.length < 3;
    e = e.cause as typeof e
  ) {
    if (typeof e.message === "string" && e.message) messages.push(e.message);
  }
  return messages.join(": ").slice(0, 500) || String(error);
}
