import { HeraldApiError, HeraldConnectionError, HeraldTimeoutError, type ProblemBody } from "./errors.ts";
import { type Operations, operationRoutes } from "./types.gen.ts";

/**
 * The HTTP layer every resource goes through: one fetch per try, a timeout per try, and retries
 * only where repeating cannot do harm (reads, and emits carrying an idempotency key).
 */

export interface HeraldOptions {
  /** Where Herald answers, such as `https://herald.example.com`. */
  baseUrl: string;
  /** A merchant's `hk_live_`/`hk_test_` key, or the admin key. */
  apiKey: string;
  /** Per try, in milliseconds; 30 000 by default. */
  timeoutMs?: number;
  /** Extra tries after a 503, a network error or a timeout, for retry-safe calls; 2 by default. */
  maxRetries?: number;
  /** A fetch of your own (a proxy, a test double); the global one by default. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Cancels the call (and its retries). */
  signal?: AbortSignal;
  /** Overrides the client's per-try timeout. */
  timeoutMs?: number;
}

export type OperationId = keyof Operations;

interface Call<Op extends OperationId> {
  path?: Record<string, string>;
  query?: Operations[Op]["query"];
  body?: Operations[Op]["body"];
  headers?: Record<string, string>;
  /** Whether sending it twice does no harm: then 503s and lost connections are tried again. */
  retrySafe?: boolean;
  options?: RequestOptions;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export class Transport {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #fetch: typeof fetch;

  constructor(options: HeraldOptions) {
    if (!options.baseUrl) throw new TypeError("Herald: baseUrl is required.");
    if (!options.apiKey) throw new TypeError("Herald: apiKey is required.");
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  url(operation: OperationId, path: Record<string, string> = {}, query: object = {}): string {
    const [, template] = operationRoutes[operation];
    const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = path[name];
      if (value === undefined || value === "") throw new TypeError(`Herald: ${name} is required.`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined && value !== null) search.set(name, String(value));
    const text = search.toString();
    return `${this.#baseUrl}${filled}${text ? `?${text}` : ""}`;
  }

  async call<Op extends OperationId>(operation: Op, call: Call<Op> = {}): Promise<Operations[Op]["answer"]> {
    const [method] = operationRoutes[operation];
    const url = this.url(operation, call.path, call.query ?? {});
    const tries = 1 + (call.retrySafe ? this.#maxRetries : 0);
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = call.options?.timeoutMs ?? this.#timeoutMs;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = call.options?.signal ? AbortSignal.any([call.options.signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          signal,
          headers: {
            authorization: `Bearer ${this.#apiKey}`,
            accept: "application/json",
            ...(call.body !== undefined && { "content-type": "application/json" }),
            ...call.headers,
          },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
        });
      } catch (cause) {
        if (call.options?.signal?.aborted) throw cause;
        const error = timeout.aborted
          ? new HeraldTimeoutError(`${method} ${url} timed out after ${timeoutMs} ms.`, { cause })
          : new HeraldConnectionError(`${method} ${url} failed: ${(cause as Error).message}`, { cause });
        if (attempt >= tries) throw error;
        await sleep(backoff(attempt), call.options?.signal);
        continue;
      }
      if (response.status === 503 && attempt < tries) {
        await response.body?.cancel();
        await sleep(backoff(attempt, response.headers.get("retry-after")), call.options?.signal);
        continue;
      }
      return answer(response) as Promise<Operations[Op]["answer"]>;
    }
  }
}

/** Exponential from 250 ms with full jitter, or what `Retry-After` asks when it is sooner than 30 s. */
function backoff(attempt: number, retryAfter?: string | null): number {
  const asked = Number(retryAfter);
  if (retryAfter && Number.isFinite(asked) && asked >= 0 && asked <= 30) return asked * 1000;
  return Math.random() * 250 * 2 ** (attempt - 1);
}

async function answer(response: Response): Promise<unknown> {
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  const parsed = text && /json/.test(type) ? (JSON.parse(text) as unknown) : text || undefined;
  if (response.ok) return parsed;
  const problem: ProblemBody =
    parsed && typeof parsed === "object"
      ? (parsed as ProblemBody)
      : {
          type: "about:blank",
          title: response.statusText,
          status: response.status,
          detail: String(parsed ?? ""),
        };
  throw new HeraldApiError(problem, response.status, response.headers.get("x-request-id") ?? undefined);
}
