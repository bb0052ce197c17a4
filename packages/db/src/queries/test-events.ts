import { newId } from "@herald/core";
import type { PgBoss } from "pg-boss";
import type { Db } from "../connect.ts";
import { attemptJob, attemptQueue, bossExecutor } from "../queue.ts";
import type { Mode } from "../schema.ts";
import { insertDeliveries } from "./deliveries.ts";
import { insertEvent } from "./events.ts";
import type { TargetEndpoint } from "./recovery.ts";

/**
 * Stores a test event in the endpoint's mode and one delivery of it to that endpoint alone, whose
 * only attempt (trigger `test`) is runnable now.
 */
export function sendTestEvent(
  db: Db,
  boss: PgBoss,
  endpoint: TargetEndpoint & { merchant_id: string; mode: Mode },
  type: string,
  data: unknown,
): Promise<{ event_id: string; delivery_id: string; body: string }> {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    const event = await insertEvent(
      trx,
      { merchant_id: endpoint.merchant_id, mode: endpoint.mode, type, data },
      now,
    );
    const deliveryId = newId("delivery", now.getTime());
    await insertDeliveries(trx, [
      {
        id: deliveryId,
        merchant_id: endpoint.merchant_id,
        mode: endpoint.mode,
        event_id: event.id,
        endpoint_id: endpoint.id,
        event_type: type,
        created_at: now,
      },
    ]);
    await boss.insert(attemptQueue, [attemptJob(deliveryId, endpoint, "test", now)], {
      db: bossExecutor(trx),
    });
    return { event_id: event.id, delivery_id: deliveryId, body: event.body };
  });
}
