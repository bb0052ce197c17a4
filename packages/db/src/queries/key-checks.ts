import { timingSafeEqual } from "node:crypto";
import { keyCheckValue, openSecret } from "@herald/core";
import { sql } from "kysely";
import type { Db } from "../connect.ts";

/** A process was given an encryption key other than the one this database was set up with. */
export class WrongEncryptionKeyError extends Error {
  override name = "WrongEncryptionKeyError";
}

const encryption = "encryption";

/**
 * Checks `key` against the database's stored key check value; the first process to start stores it.
 * A database from before the check was stored may already hold sealed secrets: the key must open
 * one of them before its check value is kept, or a wrong key would become the reference.
 */
export async function checkEncryptionKey(db: Db, key: Buffer): Promise<void> {
  const expected = keyCheckValue(key);
  const stored = await db
    .selectFrom("key_checks")
    .select("check_value")
    .where("name", "=", encryption)
    .executeTakeFirst();
  if (!stored) {
    const sealed = await db
      .selectFrom("endpoints")
      .select(sql<string>`secrets -> 0 ->> 'secret'`.as("secret"))
      .where(sql<boolean>`jsonb_array_length(secrets) > 0`)
      .limit(1)
      .executeTakeFirst();
    if (sealed?.secret && !opens(key, sealed.secret)) throw wrongKey();
    await db
      .insertInto("key_checks")
      .values({ name: encryption, check_value: expected })
      .onConflict((conflict) => conflict.column("name").doNothing())
      .execute();
    // Another process may have stored its own value first: compare against what is kept.
    return checkEncryptionKey(db, key);
  }
  const a = Buffer.from(stored.check_value);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw wrongKey();
}

function opens(key: Buffer, box: string): boolean {
  try {
    openSecret(key, box);
    return true;
  } catch {
    return false;
  }
}

function wrongKey(): WrongEncryptionKeyError {
  return new WrongEncryptionKeyError(
    "HERALD_ENCRYPTION_KEY is not the key this database was set up with; every process of one " +
      "deployment needs the same key (the all-in-one start keeps it in .herald/keys.json).",
  );
}
