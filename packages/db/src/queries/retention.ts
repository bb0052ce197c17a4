import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import type { Db } from "../connect.ts";
import { firstIdAt } from "./time-ids.ts";

export interface Pruned {
  operations: number;
  deliveries: number;
  attempts: number;
  events: number;
}

export interface PruneOptions {
  /** Rows per statement: each statement commits alone and locks only the rows it deletes. */
  batchSize?: number;
  /** Stops between statements, so a stopping process does not wait for a long prune. */
  signal?: AbortSignal;
}

/**
 * Deletes what is older than `cutoff`, in bounded statements: operations begun before it; deliveries
 * created before it that are settled, idle since (no attempt recorded or queued after it) and not
 * part of a remaining operation, with their attempts; then events created before it that no delivery
 * refers to any more. A pending delivery is never deleted, so neither is its event.
 */
export async function pruneExpired(db: Db, cutoff: Date, options: PruneOptions = {}): Promise<Pruned> {
  const batch = options.batchSize ?? 1000;
  const stopped = () => options.signal?.aborted === true;
  const pruned: Pruned = { operations: 0, deliveries: 0, attempts: 0, events: 0 };

  const operations = await db
    .selectFrom("operations")
    .select("id")
    .where("id", "<", firstIdAt("operation", cutoff))
    .orderBy("id")
    .execute();
  for (const { id } of operations) {
    if (stopped()) return pruned;
    while (
      (await deleteBatch(
        db,
        sql`DELETE FROM operation_deliveries WHERE (operation_id, delivery_id) IN (
          SELECT operation_id, delivery_id FROM operation_deliveries WHERE operation_id = ${id} LIMIT ${batch})`,
      )) === batch
    ) {
      if (stopped()) return pruned;
    }
    pruned.operations += await deleteBatch(db, sql`DELETE FROM operations WHERE id = ${id}`);
  }

  const lastDelivery = firstIdAt("delivery", cutoff);
  for (let after = ""; !stopped(); ) {
    // Walks the primary key from the oldest delivery; ids lead with their creation time.
    const ids = (
      await sql<{ id: string }>`
        SELECT id FROM deliveries d
        WHERE id > ${after} AND id < ${lastDelivery}
          AND status <> 'pending' AND updated_at < ${cutoff}
          AND NOT EXISTS (SELECT 1 FROM operation_deliveries od WHERE od.delivery_id = d.id)
        ORDER BY id LIMIT ${batch}
      `.execute(db)
    ).rows.map((r) => r.id);
    if (ids.length === 0) break;
    after = ids.at(-1)!;
    for (;;) {
      const deleted = await deleteBatch(
        db,
        sql`DELETE FROM attempts WHERE id IN (
          SELECT id FROM attempts WHERE delivery_id = ANY(${ids}) LIMIT ${batch})`,
      );
      pruned.attempts += deleted;
      if (deleted < batch || stopped()) break;
    }
    if (stopped()) break;
    pruned.deliveries += await deleteBatch(
      db,
      sql`DELETE FROM deliveries WHERE id = ANY(${ids}) AND status <> 'pending'`,
    );
    if (ids.length < batch) break;
  }

  const lastEvent = firstIdAt("event", cutoff);
  for (let after = ""; !stopped(); ) {
    const { rows } = await sql<{ id: string }>`
      DELETE FROM events WHERE id IN (
        SELECT id FROM events e
        WHERE id > ${after} AND id < ${lastEvent}
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
        ORDER BY id LIMIT ${batch})
      RETURNING id
    `.execute(db);
    pruned.events += rows.length;
    if (rows.length < batch) break;
    // RETURNING follows no order: continue after the newest id deleted.
    after = rows
      .map((r) => r.id)
      .sort()
      .at(-1)!;
  }
  return pruned;
}

async function deleteBatch(db: Db, statement: ReturnType<typeof sql>): Promise<number> {
  const result = await statement.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

export const retentionQueue = "retention";

/**
 * Prunes every hour: a pg-boss cron schedule, worked by dispatcher processes. The queue's singleton
 * policy lets one prune run at a time however many dispatchers there are.
 */
export async function scheduleRetention(
  boss: PgBoss,
  db: Db,
  retentionDays: number,
  onPruned: (pruned: Pruned, cutoff: Date) => void,
): Promise<void> {
  // Idempotent: every dispatcher that starts may create it.
  await boss.createQueue(retentionQueue, { policy: "singleton", expireInSeconds: 3600, retryLimit: 0 });
  await boss.schedule(retentionQueue, "7 * * * *", null, { tz: "UTC" });
  await boss.work(retentionQueue, { pollingIntervalSeconds: 30 }, async ([job]) => {
    const cutoff = new Date(Date.now() - retentionDays * 86_400_000);
    onPruned(await pruneExpired(db, cutoff, { signal: job!.signal }), cutoff);
  });
}
