import { generateApiKey, hashApiKey, type Mode, newId } from "@herald/core";
import type { Db } from "../connect.ts";
import { type PageRequest, page } from "./page.ts";

export async function createApiKey(db: Db, merchantId: string, mode: Mode) {
  const key = generateApiKey(mode);
  const row = await db
    .insertInto("api_keys")
    .values({
      id: newId("apiKey"),
      merchant_id: merchantId,
      mode,
      key_hash: hashApiKey(key),
      prefix: key.slice(0, `hk_${mode}_`.length),
      last4: key.slice(-4),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, key };
}

/** A merchant's keys, revoked ones included, so a key that stopped working can be explained. */
export function listApiKeys(db: Db, merchantId: string, request: PageRequest) {
  return page(db.selectFrom("api_keys").selectAll().where("merchant_id", "=", merchantId), "id", request);
}

/** Revokes a key of this merchant; revoking it again keeps the first time. False: no such key. */
export async function revokeApiKey(db: Db, merchantId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable("api_keys")
    .set((eb) => ({ revoked_at: eb.fn.coalesce("revoked_at", eb.val(new Date())) }))
    .where("id", "=", id)
    .where("merchant_id", "=", merchantId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The unrevoked key a request presents, with its merchant; nothing for an unknown or revoked key. */
export function findApiKey(db: Db, key: string) {
  return db
    .selectFrom("api_keys")
    .innerJoin("merchants", "merchants.id", "api_keys.merchant_id")
    .select(["api_keys.id", "api_keys.merchant_id", "api_keys.mode"])
    .where("api_keys.key_hash", "=", hashApiKey(key))
    .where("api_keys.revoked_at", "is", null)
    .where("merchants.deleted_at", "is", null)
    .executeTakeFirst();
}
