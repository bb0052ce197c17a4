import {
  type AttemptRecord,
  attemptPriority,
  type Db,
  deliveryFacts,
  emitOperatorEvents,
  endpointFacts,
  finishedOperations,
  noteOnce,
  type OperatorEvent,
  operatorMerchantId,
  pauseEndpoints,
  queueFifoHeads,
  type RecordedAttempts,
} from "@herald/db";
import type { PgBoss } from "pg-boss";

/** What the recorder knows of one finished attempt beyond its record, for what follows it. */
export interface AttemptAftermath {
  /** Its job: a recover operation's attempts run at the recovery priority. */
  job?: { priority?: number };
  record?: AttemptRecord | undefined;
  /** The merchant whose endpoint it was. */
  merchantId?: string | undefined;
  /** How long its endpoint pauses (it answered 429, 502 or 504), already scaled. */
  pauseMs?: number | undefined;
  /** Set when its endpoint is FIFO: the line may move on. */
  fifoEndpoint?: string | undefined;
}

export interface AftermathOptions {
  boss: PgBoss;
  /** `endpoint.failing` is sent at most once per endpoint per this window (an hour, scaled). */
  failingNoticeMs: number;
}

/**
 * What a batch of recorded attempts sets off, in the recorder's transaction so that it commits with
 * the attempts or not at all: endpoints that asked to slow down are paused, FIFO lines move on to
 * their next head, and the operator hears of endpoints disabled or failing, of deliveries exhausted
 * and of recover operations finished. Operator endpoints' own attempts tell the operator nothing
 * (no event about an event).
 */
export async function afterRecorded(
  trx: Db,
  batch: AttemptAftermath[],
  recorded: RecordedAttempts,
  options: AftermathOptions,
): Promise<void> {
  await pauseEndpoints(
    trx,
    batch.flatMap((f) =>
      f.pauseMs && f.record ? [{ endpoint_id: f.record.endpoint_id, ms: f.pauseMs }] : [],
    ),
  );
  const merchants = batch.filter((f) => f.record && f.merchantId !== operatorMerchantId);
  // The time of every notice and event of this batch.
  const at = new Date();
  const events: OperatorEvent[] = [];
  const disabled = recorded.disabled.map((d) => d.endpoint_id);
  const succeeded = new Set(merchants.flatMap((f) => (f.record?.succeeded ? [f.record.endpoint_id] : [])));
  const failing = [
    ...new Set(
      merchants.flatMap((f) =>
        f.record && !f.record.succeeded && f.record.trigger !== "test" && !succeeded.has(f.record.endpoint_id)
          ? [f.record.endpoint_id]
          : [],
      ),
    ),
  ];
  const exhausted = merchants.flatMap((f) =>
    f.record?.status === "failed" && f.record.trigger === "scheduled" ? [f.record.delivery_id] : [],
  );
  const noticeFailing = await noteOnce(trx, "endpoint.failing", failing, options.failingNoticeMs, at);
  const aboutEndpoints = [...new Set([...disabled, ...noticeFailing])];
  if (aboutEndpoints.length > 0) {
    const facts = new Map((await endpointFacts(trx, aboutEndpoints)).map((e) => [e.id, e]));
    const lastOf = new Map(merchants.map((f) => [f.record!.endpoint_id, f.record!]));
    for (const id of noticeFailing) {
      const endpoint = facts.get(id);
      const last = lastOf.get(id);
      if (!endpoint) continue;
      events.push({
        type: "endpoint.failing",
        mode: endpoint.mode,
        data: {
          endpoint_id: id,
          merchant_id: endpoint.merchant_id,
          url: endpoint.url,
          failing_since: endpoint.failing_since?.toISOString() ?? null,
          last_status: last?.response_status ?? null,
          last_error: last?.error ?? null,
        },
      });
    }
    for (const { endpoint_id, reason } of recorded.disabled) {
      const endpoint = facts.get(endpoint_id);
      if (!endpoint) continue;
      events.push({
        type: "endpoint.disabled",
        mode: endpoint.mode,
        data: { endpoint_id, merchant_id: endpoint.merchant_id, url: endpoint.url, reason },
      });
    }
  }
  if (exhausted.length > 0) {
    for (const d of await deliveryFacts(trx, exhausted)) {
      events.push({
        type: "delivery.exhausted",
        mode: d.mode,
        data: {
          delivery_id: d.id,
          merchant_id: d.merchant_id,
          endpoint_id: d.endpoint_id,
          event_id: d.event_id,
          event_type: d.event_type,
          attempts: d.attempt_count,
          last_status: d.last_status,
          last_error: d.last_error,
        },
      });
    }
  }
  // Only a recover operation's own attempts can finish it (its first attempt of each delivery).
  const recovered = merchants.flatMap((f) =>
    f.job?.priority === attemptPriority.recovery && f.record ? [f.record.delivery_id] : [],
  );
  for (const op of await finishedOperations(trx, recovered)) {
    events.push({
      type: "recovery.finished",
      mode: op.mode,
      data: {
        operation_id: op.id,
        merchant_id: op.merchant_id,
        endpoint_id: op.endpoint_id,
        total: op.total,
        succeeded: op.succeeded,
        failed: op.total - op.succeeded,
      },
    });
  }
  await emitOperatorEvents(trx, options.boss, events, at);
  // Last: it waits for the fetch lock, so it holds it for the least time.
  await queueFifoHeads(trx, options.boss, [
    ...new Set(batch.flatMap((f) => (f.fifoEndpoint ? [f.fifoEndpoint] : []))),
  ]);
}
