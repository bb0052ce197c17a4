import { newId } from "@herald/core";
import {
  type AttemptJobRecord,
  type AttemptTrigger,
  attemptJob,
  attemptQueue,
  fetchAttempts,
  startQueue,
} from "@herald/db";
import { sql } from "kysely";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { useHerald } from "./support/fixture.ts";

/**
 * Between fetches from every endpoint (pg-boss's), a dispatcher fetches only for endpoints with
 * attempts in flight (see `fetchAttempts`). That fetch must keep every rule of the other: the cap
 * per endpoint across fetches, the most urgent job first, only due jobs, the endpoints to skip, and
 * a claim pg-boss's fenced completion recognises.
 */
describe("fetching for the endpoints with attempts in flight", () => {
  const scene = useHerald({ dispatcher: false });
  let boss: PgBoss;
  beforeAll(async () => {
    boss = await startQueue(scene.herald.databaseUrl, { supervise: false, max: 2 });
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
  });
  beforeEach(async () => {
    await sql`DELETE FROM pgboss.job WHERE name = ${attemptQueue}`.execute(scene.herald.database.db);
  });

  /** Queues one job per entry to `endpoint`, due `inMs` from now; answers their delivery ids. */
  async function queue(endpoint: string, jobs: { trigger?: AttemptTrigger; inMs?: number }[]) {
    const ids = jobs.map(() => newId("delivery"));
    await boss.insert(
      attemptQueue,
      jobs.map((j, i) =>
        attemptJob(
          ids[i]!,
          { id: endpoint, timeout_ms: 1000 },
          j.trigger ?? "scheduled",
          new Date(Date.now() + (j.inMs ?? -1000 + i)),
        ),
      ),
    );
    return ids;
  }

  const fetch = (options: { discover: boolean; batchSize?: number; skip?: string[]; cap?: number }) =>
    fetchAttempts(scene.herald.database.db, boss, {
      batchSize: options.batchSize ?? 100,
      endpointConcurrency: options.cap ?? 5,
      discover: options.discover,
      skipEndpoints: options.skip ?? [],
    });

  const deliveries = (jobs: AttemptJobRecord[]) => jobs.map((j) => j.data.delivery_id).sort();

  it("fills each endpoint in flight up to its cap with its most urgent due jobs, and nothing else", async () => {
    const busy = `ep_busy_${newId("endpoint")}`;
    const idle = `ep_idle_${newId("endpoint")}`;
    const scheduled = await queue(busy, Array.from({ length: 10 }, () => ({})));
    const [later] = await queue(busy, [{ inMs: 60_000 }]);
    await queue(idle, [{}, {}]);

    // Three of the busy endpoint's jobs go in flight through the fetch from every endpoint.
    const first = await fetch({ discover: true, batchSize: 3, skip: [idle] });
    expect(deliveries(first.run)).toEqual(scheduled.slice(0, 3).sort());

    // A test send arrives for it: most urgent, so it goes before the older scheduled jobs.
    const [test] = await queue(busy, [{ trigger: "test" }]);
    const second = await fetch({ discover: false });
    // Two slots were free: the test send and the oldest scheduled job. Not the idle endpoint's jobs
    // (nothing in flight there), not the job due in a minute.
    expect(deliveries(second.run)).toEqual([test!, scheduled[3]!].sort());
    expect(deliveries(second.run)).not.toContain(later);
    expect(second.run.every((j) => j.groupId === busy && j.retryCount === 0)).toBe(true);

    // At its cap now: nothing more, until a job completes.
    expect((await fetch({ discover: false })).run).toEqual([]);
    await boss.complete(
      attemptQueue,
      second.run.map((j) => ({ id: j.id, retryCount: j.retryCount })),
    );
    const third = await fetch({ discover: false });
    expect(deliveries(third.run)).toEqual(scheduled.slice(4, 6).sort());

    // An endpoint to skip (its merchant at its share, say) gets nothing, free slots or not.
    await boss.complete(
      attemptQueue,
      third.run.map((j) => ({ id: j.id, retryCount: j.retryCount })),
    );
    expect((await fetch({ discover: false, skip: [busy] })).run).toEqual([]);
    // The cap counts every in-flight attempt, whichever fetch took it.
    expect(deliveries((await fetch({ discover: false, cap: 4 })).run)).toEqual([scheduled[6]!]);
    // With room to spare, every due job, and still not the one due in a minute.
    expect(deliveries((await fetch({ discover: false, cap: 100 })).run)).toEqual(scheduled.slice(7).sort());
  });

  it("claims as pg-boss does: a job given back is claimed again with its next attempt number", async () => {
    const endpoint = `ep_${newId("endpoint")}`;
    const [held, given] = await queue(endpoint, [{}, {}]);
    const taken = await fetch({ discover: true, batchSize: 2 });
    expect(deliveries(taken.run)).toEqual([held!, given!].sort());
    const back = taken.run.find((j) => j.data.delivery_id === given)!;
    // Given back (as a lapsed lease is): runnable again at once, no delay.
    await boss.fail(attemptQueue, [{ id: back.id, retryCount: back.retryCount }], null);

    const again = await fetch({ discover: false });
    expect(again.run.map((j) => [j.id, j.retryCount])).toEqual([[back.id, back.retryCount + 1]]);
    // The earlier claim no longer completes it; the new one does.
    const stale = await boss.complete(attemptQueue, [{ id: back.id, retryCount: back.retryCount }]);
    expect(stale).toMatchObject({ affected: 0 });
    const current = await boss.complete(attemptQueue, [{ id: back.id, retryCount: back.retryCount + 1 }]);
    expect(current).toMatchObject({ affected: 1 });
  });
});
