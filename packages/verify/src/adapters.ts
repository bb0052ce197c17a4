import {
  type HeaderSource,
  type HeraldEvent,
  type RawBody,
  type VerifyOptions,
  verify,
  WebhookVerificationError,
} from "./verify.ts";

/**
 * Framework adapters. Each insists on the raw bytes: a body parsed to JSON and serialised again
 * is not what was signed. Typed structurally, so no framework is a dependency.
 */

/** Web `Request` (Next.js route handlers, Hono, Workers, Deno, Bun): reads the body once. */
export async function verifyRequest<Event extends HeraldEvent = HeraldEvent>(
  request: Request,
  options: VerifyOptions,
): Promise<Event> {
  return verify<Event>(new Uint8Array(await request.arrayBuffer()), request.headers, options);
}

/** What a refusal answers: 400 with the reason, never the secret or the expected signature. */
export function refusal(error: unknown): { status: number; body: { error: string; message: string } } {
  if (error instanceof WebhookVerificationError)
    return { status: 400, body: { error: error.reason, message: error.message } };
  throw error;
}

interface NodeRequest extends AsyncIterable<Uint8Array> {
  headers: HeaderSource;
  body?: unknown;
  webhook?: HeraldEvent;
}
interface ExpressResponse {
  status(code: number): { json(body: unknown): unknown };
}

/**
 * Express middleware: sets `req.webhook` to the verified event, or answers 400. Mount it with
 * `express.raw({ type: "application/json" })` before it, or with no body parser at all (it then
 * reads the stream itself); `express.json()` in front of it cannot work and is reported.
 */
export function expressWebhook(options: VerifyOptions) {
  return async (req: NodeRequest, res: ExpressResponse, next: (error?: unknown) => void) => {
    try {
      let body: RawBody;
      if (req.body instanceof Uint8Array || typeof req.body === "string") body = req.body;
      else if (req.body === undefined) body = await readAll(req);
      else
        throw new TypeError(
          "expressWebhook needs the raw body: use express.raw({ type: 'application/json' }) on this route, not express.json().",
        );
      req.webhook = await verify(body, req.headers, options);
      next();
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        const { status, body } = refusal(error);
        res.status(status).json(body);
      } else next(error);
    }
  };
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

interface FastifyLike {
  addContentTypeParser(
    type: string,
    options: { parseAs: "buffer"; bodyLimit?: number },
    parser: (request: unknown, body: Uint8Array, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  addHook(
    name: "preHandler",
    hook: (
      request: { body: unknown; headers: HeaderSource; webhook?: HeraldEvent },
      reply: { code(status: number): { send(body: unknown): unknown } },
    ) => Promise<unknown>,
  ): void;
}

/**
 * A Fastify plugin for the scope it is registered in: JSON bodies there stay raw bytes, and each
 * route's `request.webhook` is the verified event (or the request is answered 400). Register it
 * inside the scope of your webhook routes, so the rest of the app keeps parsing JSON.
 */
export function fastifyWebhook(options: VerifyOptions) {
  const plugin = async (scope: FastifyLike) => {
    scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );
    scope.addHook("preHandler", async (request, reply) => {
      try {
        request.webhook = await verify(request.body as Uint8Array, request.headers, options);
      } catch (error) {
        const { status, body } = refusal(error);
        return reply.code(status).send(body);
      }
    });
  };
  // Applies to the scope that registers it, as fastify-plugin would, without depending on it.
  return Object.assign(plugin, { [Symbol.for("skip-override")]: true });
}
