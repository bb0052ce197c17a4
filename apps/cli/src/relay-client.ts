import { HeraldApiError, HeraldConnectionError, type Problem } from "@herald/sdk";

/**
 * The CLI's side of Herald's relay routes (apps/api/src/routes/relay.ts), which are the protocol
 * of `herald listen` and so not part of the public API or the SDK.
 */

/** One attempt handed over: POST `body` with `headers` to the local server. */
export interface RelayedAttempt {
  id: string;
  delivery_id: string;
  headers: Record<string, string>;
  body: string;
}

export interface RelaySession {
  id: string;
  endpoint_id: string;
  secret: string;
  event_types: string[];
}

export class RelayClient {
  readonly #base: string;
  readonly #apiKey: string;

  constructor(url: string, apiKey: string, merchant: string) {
    this.#base = `${url}/v1/merchants/${encodeURIComponent(merchant)}/relay-sessions`;
    this.#apiKey = apiKey;
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          ...(init.body !== undefined && { "content-type": "application/json" }),
        },
      });
    } catch (cause) {
      if (init.signal?.aborted) throw cause;
      throw new HeraldConnectionError(`Herald cannot be reached: ${(cause as Error).message}`, { cause });
    }
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({
        type: "about:blank",
        title: response.statusText,
        status: response.status,
        detail: "",
      }))) as Problem;
      throw new HeraldApiError(problem, response.status, response.headers.get("x-request-id") ?? undefined);
    }
    return response;
  }

  async create(eventTypes?: string[]): Promise<RelaySession> {
    const body = JSON.stringify(eventTypes ? { event_types: eventTypes } : {});
    return (await this.#fetch("", { method: "POST", body })).json() as Promise<RelaySession>;
  }

  async answer(sid: string, rid: string, answer: object): Promise<void> {
    await this.#fetch(`/${encodeURIComponent(sid)}/requests/${encodeURIComponent(rid)}/answer`, {
      method: "POST",
      body: JSON.stringify(answer),
    });
  }

  /** The session's attempts as they come; ends when the stream closes, throws when `signal` aborts. */
  async *stream(sid: string, signal: AbortSignal): AsyncGenerator<RelayedAttempt, void, undefined> {
    const response = await this.#fetch(`/${encodeURIComponent(sid)}/stream`, { signal });
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split("\n");
        const event = lines
          .find((l) => l.startsWith("event:"))
          ?.slice(6)
          .trim();
        const data = lines
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).replace(/^ /, ""))
          .join("\n");
        if (event === "attempt" && data) yield JSON.parse(data) as RelayedAttempt;
      }
    }
  }
}
