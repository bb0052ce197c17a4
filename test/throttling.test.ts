import { attemptQueue } from "@herald/db";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import {
  emitBatch,
  eventually,
  merchantWithEndpoint,
  metricSample,
  useHerald,
  useReceivers,
} from "./support/fixture.ts";

describe("a throttled endpoint receives at its rate across a burst, and others are unaffected", () => {
  const scene = useHerald();
  const startReceiver = useReceivers();
  let second: DispatcherProcess | undefined;
  afterAll(async () => {
    second?.child.kill("SIGTERM");
    await second?.exited;
  });

  it("with two dispatchers, 30 events at 10 per second get start slots 100 ms apart (within 10 % on average, never closer), while another endpoint gets its 30 at once", async () => {
    const { herald } = scene;
    // Two dispatchers take the work: the limit holds across both.
    second = await spawnDispatcher(herald);
    const slow = await startReceiver();
    const fast = await startReceiver();
    // A finished job leaves the queue: keep the slot each run job held as it goes.
    await sql`CREATE TABLE finished_slots (group_id text, slot text)`.execute(herald.database.db);
    await sql`CREATE FUNCTION keep_slot() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO finished_slots VALUES (OLD.group_id, OLD.data->>'slot'); RETURN OLD; END $$`.execute(
      herald.database.db,
    );
    await sql`CREATE TRIGGER keep_slot AFTER DELETE ON pgboss.job FOR EACH ROW
      WHEN (OLD.name = ${sql.lit(attemptQueue)} AND OLD.data ? 'slot') EXECUTE FUNCTION keep_slot()`.execute(
      herald.database.db,
    );
    const throttled = await merchantWithEndpoint(
      herald,
      { url: slow.url, rate_limit_per_second: 10 },
      "Small",
    );
    expect(throttled.endpoint.rate_limit_per_second).toBe(10);
    const free = await merchantWithEndpoint(herald, { url: fast.url }, "Large");
    await emitBatch(herald, throttled.merchant, 30);
    await emitBatch(herald, free.merchant, 30);
    await eventually(
      async () => (slow.received.length >= 30 && fast.received.length >= 30 ? true : undefined),
      30_000,
    );
    // The start slots Herald granted, as the queue recorded them: every job but the first was held
    // back for one. Judged there, not by arrival times, which a busy machine bunches or spreads.
    const slots = await eventually(async () => {
      const { rows } = await sql<{ slot: string }>`
        SELECT slot FROM finished_slots WHERE group_id = ${throttled.endpoint.id} ORDER BY 1`.execute(
        herald.database.db,
      );
      return rows.length >= 29 ? rows.map((r) => Date.parse(r.slot)) : undefined;
    }, 10_000);
    expect(slots).toHaveLength(29);
    const gaps = slots.slice(1).map((slot, i) => slot - slots[i]!);
    // Never a burst: no two slots closer than 1/rate, across both dispatchers.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(99);
    const meanGap = (slots.at(-1)! - slots[0]!) / gaps.length;
    console.log(`throttled endpoint: one slot per ${meanGap.toFixed(1)} ms over ${slots.length} slots`);
    expect(meanGap).toBeLessThanOrEqual(110);
    // The other endpoint was not held to that pace: its 30 attempts started within a fraction of
    // the 2.9 s the throttle spreads the first endpoint's over (recorded start times).
    const { rows: free30 } = await sql<{ span_ms: number }>`
      SELECT extract(epoch FROM max(started_at) - min(started_at)) * 1000 AS span_ms
      FROM attempts WHERE endpoint_id = ${free.endpoint.id}`.execute(herald.database.db);
    expect(Number(free30[0]!.span_ms)).toBeLessThan(1450);
  });
});

describe("an endpoint answering 429, 502 or 504 is paused as a whole, not only that delivery", () => {
  const scene = useHerald({ env: { HERALD_ENDPOINT_CONCURRENCY: "1" } });
  const startReceiver = useReceivers();

  it("after a 502 with Retry-After: 1, no other delivery to the endpoint starts before the pause ends", async () => {
    const { herald } = scene;
    const receiver = await startReceiver((_r, i) =>
      i === 0 ? { status: 502, headers: { "retry-after": "1" } } : { status: 200 },
    );
    const { endpoint, merchant } = await merchantWithEndpoint(herald, { url: receiver.url });
    await emitBatch(herald, merchant, 4);
    await eventually(async () => (receiver.received.length >= 4 ? true : undefined), 20_000);
    const { rows } = await sql<{ paused_until: Date }>`
      SELECT paused_until FROM endpoint_pauses WHERE endpoint_id = ${endpoint.id}`.execute(
      herald.database.db,
    );
    const pausedUntil = rows[0]!.paused_until.getTime();
    const first = receiver.received[0]!.at;
    expect(pausedUntil - first).toBeGreaterThanOrEqual(900);
    // Every later request came after the pause (same clock: the database and receiver share it).
    for (const later of receiver.received.slice(1)) expect(later.at).toBeGreaterThanOrEqual(pausedUntil - 5);
    expect(await metricSample(herald, "herald_endpoint_slow_downs_total")).toBeGreaterThanOrEqual(1);
  });
});
