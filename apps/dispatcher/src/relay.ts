import { setTimeout as sleep } from "node:timers/promises";
import { newId } from "@herald/core";
import {
  type Db,
  deleteRelayRequest,
  isRelayConnected,
  offerRelayRequest,
  readRelayRequest,
  relayUrlPrefix,
} from "@herald/db";
import type { Sent } from "./send.ts";

/**
 * The dispatcher's half of `herald listen`: instead of a POST, an attempt to a relay endpoint
 * (`relay://<session>`) is offered to the CLI holding that session's stream, through Postgres,
 * and the CLI's real answer from the developer's local server becomes the attempt's outcome.
 * Signing, recording and the schedule are the dispatcher's as for any endpoint.
 */

export const isRelayUrl = (url: string) => url.startsWith(relayUrlPrefix);

// How often a waiting attempt looks for the CLI's answer: a local server answers in milliseconds.
const answerPollMs = 25;

export async function relay(
  db: Db,
  target: {
    url: string;
    endpointId: string;
    deliveryId: string;
    headers: Record<string, string>;
    body: string;
    timeoutMs: number;
    abort?: AbortSignal;
  },
): Promise<Sent> {
  const startedAt = new Date();
  const failed = (error: string, errorDetail: string): Sent => ({
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    status: null,
    headers: null,
    body: null,
    error,
    errorDetail,
  });
  const sessionId = target.url.slice(relayUrlPrefix.length);
  const session = await db
    .selectFrom("relay_sessions")
    .selectAll()
    .where("id", "=", sessionId)
    .executeTakeFirst();
  // The session must be this endpoint's own: an endpoint cannot borrow another merchant's stream.
  if (!session || session.endpoint_id !== target.endpointId || !isRelayConnected(session))
    return failed("relay_disconnected", "No `herald listen` is connected for this relay endpoint.");

  const id = newId("relayRequest");
  const deadline = startedAt.getTime() + target.timeoutMs;
  await offerRelayRequest(db, {
    id,
    session_id: sessionId,
    delivery_id: target.deliveryId,
    headers: target.headers,
    body: target.body,
    expires_at: new Date(deadline),
  });
  try {
    for (;;) {
      const request = await readRelayRequest(db, id);
      if (request?.answered_at) {
        return {
          startedAt,
          durationMs: request.duration_ms ?? Date.now() - startedAt.getTime(),
          status: request.response_status,
          headers: request.response_headers,
          body: request.response_body === null ? null : Buffer.from(request.response_body),
          error: request.error,
          errorDetail: request.error_detail,
        };
      }
      if (Date.now() >= deadline || target.abort?.aborted)
        return request?.taken_at
          ? failed("timeout", "The local server did not answer `herald listen` in time.")
          : failed("relay_disconnected", "`herald listen` did not take the attempt in time.");
      await sleep(answerPollMs);
    }
  } finally {
    await deleteRelayRequest(db, id);
  }
}
