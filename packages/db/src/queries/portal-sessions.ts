import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../connect.ts";
import type { Mode, PortalSessionKind } from "../schema.ts";

/** 32 random bytes, URL-safe: what a browser or a link carries. Only its hash is stored. */
function newToken(): string {
  return randomBytes(32).toString("base64url");
}

function hashToken(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export interface PortalLinkGrant {
  merchantId: string;
  mode: Mode | null;
  readOnly: boolean;
  sessionSeconds: number;
  linkSeconds: number;
}

/** Stores a one-time portal link; answers its token, shown once. */
export async function createPortalLink(db: Db, grant: PortalLinkGrant) {
  const token = newToken();
  const row = await db
    .insertInto("portal_links")
    .values({
      token_hash: hashToken(token),
      merchant_id: grant.merchantId,
      mode: grant.mode,
      read_only: grant.readOnly,
      session_seconds: grant.sessionSeconds,
      expires_at: new Date(Date.now() + grant.linkSeconds * 1000),
    })
    .returning(["expires_at"])
    .executeTakeFirstOrThrow();
  return { token, expiresAt: row.expires_at };
}

/**
 * Spends a portal link: one statement marks it used only if it is unused and unexpired, so two
 * visits racing with the same link cannot both win. Nothing for an unknown, used or expired link,
 * or one whose merchant was deleted since.
 */
export async function spendPortalLink(db: Db, token: string) {
  return db
    .updateTable("portal_links")
    .set({ used_at: new Date() })
    .where("token_hash", "=", hashToken(token))
    .where("used_at", "is", null)
    .where("expires_at", ">", new Date())
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("merchants")
          .select("id")
          .whereRef("merchants.id", "=", "portal_links.merchant_id")
          .where("deleted_at", "is", null),
      ),
    )
    .returning(["merchant_id", "mode", "read_only", "session_seconds"])
    .executeTakeFirst();
}

export interface NewPortalSession {
  kind: PortalSessionKind;
  merchantId: string | null;
  mode: Mode | null;
  apiKeyId: string | null;
  readOnly: boolean;
  seconds: number;
}

/** Opens a session; answers the cookie value, shown once. */
export async function createPortalSession(db: Db, session: NewPortalSession) {
  const token = newToken();
  const row = await db
    .insertInto("portal_sessions")
    .values({
      token_hash: hashToken(token),
      kind: session.kind,
      merchant_id: session.merchantId,
      mode: session.mode,
      api_key_id: session.apiKeyId,
      read_only: session.readOnly,
      expires_at: new Date(Date.now() + session.seconds * 1000),
    })
    .returning(["expires_at"])
    .executeTakeFirstOrThrow();
  return { token, expiresAt: row.expires_at };
}

/**
 * The live session a cookie names: not ended, not expired, its merchant not deleted and, for a key
 * session, its key not revoked.
 */
export function findPortalSession(db: Db, token: string) {
  return db
    .selectFrom("portal_sessions")
    .leftJoin("merchants", "merchants.id", "portal_sessions.merchant_id")
    .leftJoin("api_keys", "api_keys.id", "portal_sessions.api_key_id")
    .select([
      "portal_sessions.kind",
      "portal_sessions.merchant_id",
      "portal_sessions.mode",
      "portal_sessions.read_only",
      "portal_sessions.expires_at",
    ])
    .where("portal_sessions.token_hash", "=", hashToken(token))
    .where("portal_sessions.ended_at", "is", null)
    .where("portal_sessions.expires_at", ">", new Date())
    .where("merchants.deleted_at", "is", null)
    .where("api_keys.revoked_at", "is", null)
    .executeTakeFirst();
}

/** Signs a session out; ending it twice is harmless. */
export async function endPortalSession(db: Db, token: string): Promise<void> {
  await db
    .updateTable("portal_sessions")
    .set({ ended_at: new Date() })
    .where("token_hash", "=", hashToken(token))
    .where("ended_at", "is", null)
    .execute();
}
