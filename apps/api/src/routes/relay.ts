import { setTimeout as sleep } from "node:timers/promises";
import {
  generateSecret,
  isEventTypeFilter,
  isId,
  maxEventTypeFilterLength,
  newId,
  sealSecret,
} from "@herald/core";
import {
  answerRelayRequest,
  createEndpoint,
  createRelaySession,
  disconnectRelaySession,
  forgetExpiredRelayRequests,
  getRelaySession,
  type RelaySession,
  relayHeartbeatMs,
  relayUrlPrefix,
  type Scope,
  takeRelayRequests,
  touchRelaySession,
} from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { writeMode } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { answers, MerchantParams, PathId, Text } from "../schemas.ts";

/**
 * `herald listen`: a relay session is a test-mode endpoint whose attempts reach a developer's
 * laptop through a stream the CLI holds open (Server-Sent Events), not over the network. The CLI
 * POSTs each attempt to the local server and answers with what it said; the dispatcher records
 * that answer as the attempt (apps/dispatcher/src/relay.ts).
 *
 * These routes are the CLI's own protocol, left out of the OpenAPI document (`hide`) like
 * /openapi.json itself: a generated client has no use for them, and a stream that never ends
 * would hang any tool that walks the document calling each GET. test/listen-isolation.test.ts
 * covers them as the document-driven matrices cover the rest.
 */

const Session = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String({ description: "The relay endpoint: test mode, url `relay://<session id>`." }),
  secret: Type.String({ description: "The relay endpoint's signing secret; the only time it is shown." }),
  event_types: Type.Array(Type.String()),
});

const CreateBody = Type.Object(
  {
    event_types: Type.Optional(
      Type.Array(Text({ minLength: 1, maxLength: maxEventTypeFilterLength }), {
        maxItems: 100,
        description: "Event types to receive, as for an endpoint; empty or absent: all.",
      }),
    ),
  },
  { additionalProperties: false },
);

const SessionParams = Type.Object({ mid: PathId, sid: PathId });

const Answer = Type.Object(
  {
    status: Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.Null()], {
      description: "The local server's status; null when it gave none.",
    }),
    headers: Type.Optional(
      Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 8192 }), { maxProperties: 100 }),
    ),
    body: Type.Optional(
      Type.String({ maxLength: 64 * 1024, description: "At most 64 KiB, as for any attempt." }),
    ),
    duration_ms: Type.Integer({ minimum: 0, maximum: 600_000 }),
    error: Type.Optional(
      Type.Union([OneOfErrors(), Type.Null()], {
        description: "Why the local server gave no usable answer.",
      }),
    ),
    error_detail: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  },
  { additionalProperties: false },
);

function OneOfErrors() {
  return Type.Unsafe<"connection_refused" | "timeout" | "network">({
    type: "string",
    enum: ["connection_refused", "timeout", "network"],
  });
}

// How often an open stream looks for attempts to hand over.
const streamPollMs = 50;

export async function relayRoutes(app: HeraldApp) {
  const { db, encryptionKey } = app.herald;
  // Open streams never finish on their own: closing the app ends them, or it would wait forever.
  const streams = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const stream of streams) stream.abort();
  });

  /** The session `sid` within the caller's reach: a live-mode key reaches no relay session. */
  async function loadSession(scope: Scope, sid: string): Promise<RelaySession> {
    const reachable = isId("relaySession", sid) && scope.mode !== "live";
    const session = reachable ? await getRelaySession(db, scope.merchantId, sid) : undefined;
    if (!session) throw notFound("relay session");
    return session;
  }

  app.post(
    "/v1/merchants/:mid/relay-sessions",
    {
      schema: {
        hide: true,
        tags: ["endpoints"],
        summary: "Start a relay session for `herald listen`",
        description:
          "Creates a test-mode relay endpoint whose attempts travel through the session's stream to the CLI. " +
          "They are signed, retried and recorded like any other; while no CLI holds the stream they fail with " +
          "`relay_disconnected` and follow the endpoint's schedule.",
        params: MerchantParams,
        body: Type.Union([CreateBody, Type.Null()]),
        response: answers({ 201: Session }),
      },
    },
    async (request, reply) => {
      const mode = writeMode(request.scope, "test", "test");
      const eventTypes = request.body?.event_types ?? [];
      const bad = eventTypes.find((t) => !isEventTypeFilter(t));
      if (bad !== undefined)
        throw new HttpProblem("validation", `"${bad}" is not an event type, a prefix.* or *.`, "event_types");
      const id = newId("relaySession");
      const secret = generateSecret("standard");
      const endpoint = await db.transaction().execute(async (trx) => {
        const created = await createEndpoint(trx, {
          id: newId("endpoint"),
          merchant_id: request.scope.merchantId,
          mode,
          url: `${relayUrlPrefix}${id}`,
          description: "herald listen",
          event_types: eventTypes,
          enabled: true,
          disabled_reason: null,
          retry_policy: mode,
          signature_scheme: "standard",
          headers: {},
          timeout_ms: 15000,
          metadata: {},
          secrets: [
            {
              secret: sealSecret(encryptionKey, secret),
              created_at: new Date().toISOString(),
              expires_at: null,
            },
          ],
        });
        await createRelaySession(trx, { id, merchant_id: request.scope.merchantId, endpoint_id: created.id });
        return created;
      });
      return reply.code(201).send({ id, endpoint_id: endpoint.id, secret, event_types: eventTypes });
    },
  );

  app.get(
    "/v1/merchants/:mid/relay-sessions/:sid/stream",
    {
      schema: {
        hide: true,
        tags: ["endpoints"],
        summary: "Hold a relay session's stream",
        description:
          "Server-Sent Events: an `attempt` event per attempt to forward (`{id, delivery_id, headers, body}`), " +
          "a comment every few seconds to keep the connection alive. Answer each attempt with POST …/answer.",
        params: SessionParams,
        response: answers({
          200: Type.String({ description: "text/event-stream" }),
        }),
      },
    },
    async (request, reply) => {
      const session = await loadSession(request.scope, request.params.sid);
      await touchRelaySession(db, session.id, true);
      reply.hijack();
      const stream = reply.raw;
      stream.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-request-id": request.id,
      });
      stream.write(
        `event: ready\ndata: ${JSON.stringify({ session_id: session.id, endpoint_id: session.endpoint_id })}\n\n`,
      );
      const closed = new AbortController();
      streams.add(closed);
      request.raw.on("close", () => closed.abort());
      let lastBeat = Date.now();
      try {
        while (!closed.signal.aborted) {
          for (const attempt of await takeRelayRequests(db, session.id))
            stream.write(
              `event: attempt\ndata: ${JSON.stringify({
                id: attempt.id,
                delivery_id: attempt.delivery_id,
                headers: attempt.headers,
                body: attempt.body,
              })}\n\n`,
            );
          if (Date.now() - lastBeat >= relayHeartbeatMs) {
            lastBeat = Date.now();
            await touchRelaySession(db, session.id);
            await forgetExpiredRelayRequests(db, session.id);
            stream.write(": alive\n\n");
          }
          await sleep(streamPollMs, undefined, { signal: closed.signal }).catch(() => undefined);
        }
      } catch (error) {
        request.log.warn({ err: error }, "relay stream ended");
      } finally {
        streams.delete(closed);
        await disconnectRelaySession(db, session.id).catch(() => undefined);
        stream.end();
      }
    },
  );

  app.post(
    "/v1/merchants/:mid/relay-sessions/:sid/requests/:rid/answer",
    {
      schema: {
        hide: true,
        tags: ["endpoints"],
        summary: "Answer a relayed attempt with what the local server said",
        params: Type.Object({ mid: PathId, sid: PathId, rid: PathId }),
        body: Answer,
        response: answers({ 204: Type.Null({ description: "Recorded." }) }),
      },
    },
    async (request, reply) => {
      const session = await loadSession(request.scope, request.params.sid);
      const body = request.body;
      const recorded = await answerRelayRequest(db, session.id, request.params.rid, {
        response_status: body.status,
        response_headers: body.headers ?? null,
        // PostgreSQL text cannot hold NUL: kept visible as an escape, as the dispatcher does.
        response_body: body.body?.replaceAll("\u0000", "\\u0000") ?? null,
        duration_ms: body.duration_ms,
        error: body.error ?? null,
        error_detail: body.error_detail ?? null,
      });
      if (!recorded) throw notFound("relayed attempt waiting for an answer");
      return reply.code(204).send(null);
    },
  );
}
