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

  it("with two dispatchers, 30 events at 10 per second arrive 100 ms apart on average (within 10 %), while another endpoint gets its 30 at once", async () => {
    const { herald } = scene;
    // Two dispatchers take the work: the limit holds across both.
    second = await spawnDispatcher(herald);
    const slow = await startReceiver();
    const fast = await startReceiver();
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
    const arrivals = slow.received.map((r) => r.at).sort((a, b) => a - b);
    const rate = (arrivals.length - 1) / ((arrivals.at(-1)! - arrivals[0]!) / 1000);
    console.log(`throttled endpoint: ${rate.toFixed(2)} per second over ${arrivals.length} arrivals`);
    expect(rate).toBeGreaterThanOrEqual(9);
    expect(rate).toBeLessThanOrEqual(11);
    // Never a burst: no second of the run holds more than its rate, give or take the wake-up
    // jitter of a slot that came late (unthrottled, all 30 arrive within one second).
    const busiestSecond = Math.max(
      ...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 1000).length),
    );
    expect(busiestSecond).toBeLessThanOrEqual(12);
    // The other endpoint was not held to that pace: all of its 30 arrived while the throttled one
    // received well under half of its own.
    const fastDone = Math.max(...fast.received.map((r) => r.at));
    expect(arrivals.filter((t) => t <= fastDone).length).toBeLessThan(15);
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
