import type { Mode } from "@herald/core";
import type { Db } from "../connect.ts";

/**
 * Delivery profiles, by name. `settings` is core's `ProfileSettings`, checked by the API before it
 * gets here. The built-in `default` is never stored (the table refuses the name).
 */

export function createProfile(db: Db, name: string, settings: unknown) {
  return db
    .insertInto("profiles")
    .values({ name, settings: JSON.stringify(settings) })
    .onConflict((oc) => oc.column("name").doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function getProfile(db: Db, name: string) {
  return db.selectFrom("profiles").selectAll().where("name", "=", name).executeTakeFirst();
}

/** Every stored profile, by name: a deployment has a handful (one per provider dialect). */
export function listProfiles(db: Db) {
  return db.selectFrom("profiles").selectAll().orderBy("name").limit(1000).execute();
}

/** Replaces a profile's settings with `next(current)`, holding the row against a concurrent update. */
export function updateProfile(db: Db, name: string, next: (current: unknown) => unknown) {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom("profiles")
      .selectAll()
      .where("name", "=", name)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    return trx
      .updateTable("profiles")
      .set({ settings: JSON.stringify(next(current.settings)), updated_at: new Date() })
      .where("name", "=", name)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/**
 * How many live endpoints of `mode` with an http URL deliver under `profile` (their own, or their
 * merchant's when they name none; `null` is the default profile), optionally only those of one
 * merchant. A profile may not start requiring https while such endpoints exist.
 */
export async function countHttpEndpoints(
  db: Db,
  profile: string | null,
  mode: Mode,
  merchantId?: string,
): Promise<number> {
  let query = db
    .selectFrom("endpoints as ep")
    .innerJoin("merchants as m", "m.id", "ep.merchant_id")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("ep.deleted_at", "is", null)
    .where("ep.mode", "=", mode)
    .where("ep.url", "ilike", "http:%");
  if (merchantId) query = query.where("ep.merchant_id", "=", merchantId).where("ep.profile", "is", null);
  else
    query = query.where((eb) =>
      profile === null
        ? eb.and([eb("ep.profile", "is", null), eb("m.profile", "is", null)])
        : eb.or([
            eb("ep.profile", "=", profile),
            eb.and([eb("ep.profile", "is", null), eb("m.profile", "=", profile)]),
          ]),
    );
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}
