import { sql } from "kysely";
import type { Db } from "../connect.ts";
import type { RelayRequest, RelaySession } from "../schema.ts";

/**
 * `herald listen` sessions and the attempts they carry: every write to relay_sessions and
 * relay_requests. A session counts as connected while its stream's heartbeat is recent.
 */

/** How long a stream may go unheard before its session counts as gone. */
export const relayHeartbeatMs = 5_000;
export const relayStaleMs = 15_000;

export const relayUrlPrefix = "relay://";

export function createRelaySession(
  db: Db,
  session: { id: string; merchant_id: string; endpoint_id: string },
) {
  return db.insertInto("relay_sessions").values(session).returningAll().executeTakeFirstOrThrow();
}

export function getRelaySession(db: Db, merchantId: string, id: string): Promise<RelaySession | undefined> {
  return db
    .selectFrom("relay_sessions")
    .selectAll()
    .where("id", "=", id)
    .where("merchant_id", "=", merchantId)
    .executeTakeFirst();
}

/** Whether a CLI holds the session's stream now. */
export function isRelayConnected(session: RelaySession, now = Date.now()): boolean {
  return (
    session.connected_at !== null &&
    session.last_seen_at !== null &&
    now - session.last_seen_at.getTime() < relayStaleMs
  );
}

/** A stream opened, or its heartbeat: the session is connected as of now. */
export async function touchRelaySession(db: Db, id: string, opened = false): Promise<void> {
  await db
    .updateTable("relay_sessions")
    .set({ last_seen_at: sql`now()`, ...(opened && { connected_at: sql`now()` }) })
    .where("id", "=", id)
    .execute();
}

/** The stream closed: attempts fail at once instead of waiting for the heartbeat to go stale. */
export async function disconnectRelaySession(db: Db, id: string): Promise<void> {
  await db.updateTable("relay_sessions").set({ connected_at: null }).where("id", "=", id).execute();
}

/** The dispatcher's side: an attempt for the session's CLI, which `expiresAt` bounds. */
export async function offerRelayRequest(
  db: Db,
  request: {
    id: string;
    session_id: string;
    delivery_id: string;
    headers: Record<string, string>;
    body: string;
    expires_at: Date;
  },
): Promise<void> {
  await db
    .insertInto("relay_requests")
    .values({ ...request, headers: JSON.stringify(request.headers) })
    .execute();
}

export function readRelayRequest(db: Db, id: string): Promise<RelayRequest | undefined> {
  return db.selectFrom("relay_requests").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Attempts whose dispatcher died while waiting (it deletes its own otherwise): long past their
 * expiry, nobody will read them.
 */
export async function forgetExpiredRelayRequests(db: Db, sessionId: string): Promise<void> {
  await db
    .deleteFrom("relay_requests")
    .where("session_id", "=", sessionId)
    .where("expires_at", "<", sql<Date>`now() - interval '1 minute'`)
    .execute();
}

export async function deleteRelayRequest(db: Db, id: string): Promise<void> {
  await db.deleteFrom("relay_requests").where("id", "=", id).execute();
}

/** The stream's side: claims the session's waiting attempts, oldest first, once each. */
export function takeRelayRequests(db: Db, sessionId: string, limit = 10): Promise<RelayRequest[]> {
  return db
    .updateTable("relay_requests")
    .set({ taken_at: sql`now()` })
    .where("id", "in", (q) =>
      q
        .selectFrom("relay_requests")
        .select("id")
        .where("session_id", "=", sessionId)
        .where("taken_at", "is", null)
        .where("expires_at", ">", sql<Date>`now()`)
        .orderBy("created_at")
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
}

export interface RelayAnswer {
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  error_detail: string | null;
}

/** The CLI's answer to a taken attempt of its session; false when there is no such attempt (any more). */
export async function answerRelayRequest(
  db: Db,
  sessionId: string,
  id: string,
  answer: RelayAnswer,
): Promise<boolean> {
  const result = await db
    .updateTable("relay_requests")
    .set({
      ...answer,
      response_headers: answer.response_headers && JSON.stringify(answer.response_headers),
      answered_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("session_id", "=", sessionId)
    .where("taken_at", "is not", null)
    .where("answered_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
