import type { HeraldApi } from "../bench/herald-api.ts";
import type { Arrival } from "../bench/receiver.ts";
import type { Stack } from "../bench/stack.ts";

/** The events the API accepted (202) and what it refused, by status. */
export interface Accepted {
  ids: string[];
  refused: Map<number, number>;
  seconds: number;
}

/**
 * Emits `count` events of `type` at a fixed concurrency, spread over `apis` in turn, and keeps the
 * id of every one answered 202: those are the events that must never be lost.
 */
export async function emitMany(
  apis: HeraldApi[],
  merchant: string,
  type: string,
  count: number,
  concurrency: number,
): Promise<Accepted> {
  const ids: string[] = [];
  const refused = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const emitted = await apis[n % apis.length]!.emit(merchant, type, n).catch(() => ({
        status: 0,
        id: undefined,
      }));
      if (emitted.status === 202 && emitted.id) ids.push(emitted.id);
      else refused.set(emitted.status, (refused.get(emitted.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ids, refused, seconds: (performance.now() - started) / 1000 };
}

/** Accepted events against what arrived, one delivery per event and endpoint path. */
export interface Reconciled {
  expected: number;
  delivered: number;
  lost: number;
  /** Requests beyond the first for the same endpoint and webhook-id. */
  duplicates: number;
  lostSample: string[];
}

export function reconcile(acceptedIds: string[], paths: string[], arrivals: Arrival[]): Reconciled {
  const seen = new Map<string, number>();
  for (const a of arrivals) {
    if (a.status !== 200) continue;
    const key = `${a.path} ${a.id}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const missing: string[] = [];
  let delivered = 0;
  for (const id of acceptedIds) {
    for (const path of paths) {
      if (seen.has(`${path} ${id}`)) delivered++;
      else missing.push(`${path} ${id}`);
    }
  }
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
  return {
    expected: acceptedIds.length * paths.length,
    delivered,
    lost: missing.length,
    duplicates,
    lostSample: missing.slice(0, 5),
  };
}

/** Deliveries by status, straight from the table. */
export async function deliveryStatuses(stack: Stack): Promise<Record<string, number>> {
  const { rows } = await stack.db.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM deliveries GROUP BY status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Polls until every one of `expected` deliveries has succeeded, or `timeoutMs` passes. Answers
 * how long it took, in seconds, or undefined when it did not happen in time.
 */
export async function waitForAllSucceeded(
  stack: Stack,
  expected: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const statuses = await deliveryStatuses(stack).catch(() => ({}) as Record<string, number>);
    if ((statuses.succeeded ?? 0) >= expected) return (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}
