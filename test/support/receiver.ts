import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  /** When the request's body had fully arrived. */
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers one request. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answers this much later; the request stays open (and counted in `waiting`) meanwhile. */
  delayMs?: number;
  /** Never answers: the request stays open until the sender gives up or the receiver closes. */
  hold?: boolean;
}

export type Responder = (request: Received, index: number) => Answer;

/** The same answer to every request, or `respond` to decide per request. */
export type ReceiverOptions = Partial<Answer> & { respond?: Responder };

/**
 * The one test receiver: a real HTTP server on loopback that records every request and answers as
 * told, at once, after a delay, or never.
 */
export class Receiver {
  readonly received: Received[] = [];
  /** Requests received and not yet answered (or dropped by the sender). */
  readonly waiting = new Set<ServerResponse>();
  respond: Responder = () => ({ status: 200, body: "ok" });
  #server: Server;
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(options: Responder | ReceiverOptions = {}): Promise<Receiver> {
    const receiver: Receiver = new Receiver(
      createServer((req, res) => {
        receiver.waiting.add(res);
        res.on("close", () => receiver.waiting.delete(res));
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          const request = {
            at: Date.now(),
            path: req.url ?? "/",
            headers: req.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          };
          const answer = receiver.respond(request, receiver.received.length);
          receiver.received.push(request);
          for (const waiter of receiver.#waiters.filter((w) => receiver.received.length >= w.count))
            waiter.resolve();
          if (answer.hold) return;
          const send = () => res.writeHead(answer.status, answer.headers).end(answer.body ?? "");
          if (answer.delayMs) setTimeout(send, answer.delayMs);
          else send();
        });
      }),
    );
    if (typeof options === "function") receiver.respond = options;
    else if (options.respond) receiver.respond = options.respond;
    else if (Object.keys(options).length > 0) {
      const answer = { status: 200, body: "ok", ...options };
      receiver.respond = () => answer;
    }
    await new Promise<void>((resolve) => receiver.#server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The `webhook-id` of every request, in the order they arrived. */
  get webhookIds(): string[] {
    return this.received.map((request) => String(request.headers["webhook-id"]));
  }

  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<Received[]> {
    if (this.received.length >= count) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`receiver got ${this.received.length} of ${count} requests`)),
        timeoutMs,
      );
      this.#waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.received);
        },
      });
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
