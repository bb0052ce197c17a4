import { newId } from "@herald/core";
import type { Db } from "../connect.ts";
import { type PageRequest, page } from "./page.ts";

export function createMerchant(
  db: Db,
  input: { name: string; metadata: Record<string, string>; profile?: string | null },
) {
  return db
    .insertInto("merchants")
    .values({
      id: newId("merchant"),
      name: input.name,
      metadata: JSON.stringify(input.metadata),
      profile: input.profile ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listMerchants(db: Db, request: PageRequest) {
  return page(db.selectFrom("merchants").selectAll().where("deleted_at", "is", null), "id", request);
}

export function getMerchant(db: Db, id: string) {
  return db
    .selectFrom("merchants")
    .selectAll()
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

export function updateMerchant(
  db: Db,
  id: string,
  patch: { name?: string; metadata?: Record<string, string>; profile?: string | null },
) {
  return db
    .updateTable("merchants")
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.metadata !== undefined && { metadata: JSON.stringify(patch.metadata) }),
      ...(patch.profile !== undefined && { profile: patch.profile }),
      updated_at: new Date(),
    })
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Soft delete: the merchant disappears from the API, its endpoints stop receiving, its pending
 * deliveries are cancelled; events and attempts stay until retention removes them.
 */
export function deleteMerchant(db: Db, id: string) {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    const deleted = await trx
      .updateTable("merchants")
      .set({ deleted_at: now, updated_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (!deleted) return false;
    await trx
      .updateTable("endpoints")
      .set({ deleted_at: now, enabled: false })
      .where("merchant_id", "=", id)
      .execute();
    await trx
      .updateTable("api_keys")
      .set({ revoked_at: now })
      .where("merchant_id", "=", id)
      .where("revoked_at", "is", null)
      .execute();
    await trx
      .updateTable("deliveries")
      .set({ status: "cancelled", next_attempt_at: null, updated_at: now })
      .where("merchant_id", "=", id)
      .where("status", "=", "pending")
      .execute();
    return true;
  });
}
