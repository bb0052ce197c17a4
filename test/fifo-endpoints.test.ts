import { afterAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import {
  emit,
  emitBatch,
  eventually,
  merchantWithEndpoint,
  useHerald,
  useReceivers,
} from "./support/fixture.ts";

// Schedules are scaled: the `test` policy's hourly retries come 360 ms apart.
const scale = "0.0001";

describe("a FIFO endpoint gets its deliveries one at a time in event order, a failing head holding the rest back", () => {
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: scale } });
  const startReceiver = useReceivers();
  let second: DispatcherProcess | undefined;
  afterAll(async () => {
    second?.child.kill("SIGTERM");
    await second?.exited;
  });

  it("with two dispatchers: the head is retried twice, then the others follow in order, never two at once", async () => {
    const { herald } = scene;
    // A second dispatcher process on the same database: the line holds across processes.
    second = await spawnDispatcher(herald, { HERALD_RETRY_TIME_SCALE: scale });
    let concurrent = 0;
    let mostAtOnce = 0;
    let headFailures = 0;
    const receiver = await startReceiver((request) => {
      concurrent = receiver.waiting.size;
      mostAtOnce = Math.max(mostAtOnce, concurrent);
      const { data } = JSON.parse(request.body) as { data: { n: number } };
      // The first event fails twice; every answer takes a moment, so overlap would show.
      if (data.n === 0 && headFailures < 2) {
        headFailures++;
        return { status: 500, delayMs: 30 };
      }
      return { status: 200, delayMs: 30 };
    });
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      ordering: "fifo",
      retry_policy: "test",
    });
    expect(endpoint.ordering).toBe("fifo");
    const events: string[] = [];
    for (let n = 0; n < 6; n++) events.push(await emit(herald, merchant, { data: { n } }));

    // While the head is failing, the others say what they wait behind.
    const waiting = await eventually(async () => {
      const answer = await herald.api(
        "GET",
        `/v1/merchants/${merchant}/deliveries?endpoint_id=${endpoint.id}`,
      );
      const pending = (answer.body.data as { status: string; waiting_behind?: string }[]).filter(
        (d) => d.waiting_behind,
      );
      return pending.length > 0 ? pending : undefined;
    });
    const head = await herald.database.db
      .selectFrom("deliveries")
      .select("id")
      .where("event_id", "=", events[0]!)
      .executeTakeFirstOrThrow();
    expect(waiting.every((d) => d.waiting_behind === head.id)).toBe(true);

    await eventually(async () => (receiver.received.length >= 8 ? true : undefined), 30_000);
    const order = receiver.received.map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n);
    expect(order).toEqual([0, 0, 0, 1, 2, 3, 4, 5]);
    expect(mostAtOnce).toBe(1);
    // The last answer is on record a moment after it arrived.
    await eventually(async () => {
      const rows = await herald.database.db
        .selectFrom("deliveries")
        .select("status")
        .where("event_id", "in", events)
        .execute();
      return rows.every((d) => d.status === "succeeded") ? true : undefined;
    });
  });

  it("an exhausted head lets the line move on", async () => {
    const { herald } = scene;
    const receiver = await startReceiver((request) => {
      const { data } = JSON.parse(request.body) as { data: { n: number } };
      return { status: data.n === 0 ? 500 : 200 };
    });
    const { merchant } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      ordering: "fifo",
      retry_policy: { custom: [60, 60] },
    });
    for (let n = 0; n < 3; n++) await emit(herald, merchant, { data: { n } });
    await eventually(async () => (receiver.received.length >= 5 ? true : undefined), 30_000);
    const order = receiver.received.map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n);
    expect(order).toEqual([0, 0, 0, 1, 2]);
  });

  it("the events of one batch call are delivered in their batch order", async () => {
    const { herald } = scene;
    let failedOnce = false;
    const receiver = await startReceiver((request) => {
      const { data } = JSON.parse(request.body) as { data: { i: number } };
      if (data.i === 0 && !failedOnce) {
        failedOnce = true;
        return { status: 503 };
      }
      return { status: 200 };
    });
    const { merchant } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      ordering: "fifo",
      retry_policy: "test",
    });
    await emitBatch(herald, merchant, 20);
    await eventually(async () => (receiver.received.length >= 21 ? true : undefined), 30_000);
    const order = receiver.received.map((r) => (JSON.parse(r.body) as { data: { i: number } }).data.i);
    expect(order).toEqual([0, ...Array.from({ length: 20 }, (_, i) => i)]);
  });

  it("switching to parallel sends the deliveries that were waiting behind a failing head at once", async () => {
    const { herald } = scene;
    const receiver = await startReceiver((request) => {
      const { data } = JSON.parse(request.body) as { data: { n: number } };
      return { status: data.n === 0 ? 500 : 200 };
    });
    const { merchant, endpoint } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      ordering: "fifo",
      retry_policy: "test",
    });
    for (let n = 0; n < 3; n++) await emit(herald, merchant, { data: { n } });
    // Both later deliveries wait, without a job, behind the failing head.
    await eventually(async () => {
      const parked = await herald.database.db
        .selectFrom("fifo_parked")
        .select("delivery_id")
        .where("endpoint_id", "=", endpoint.id)
        .execute();
      return parked.length === 2 ? true : undefined;
    });
    expect(receiver.received.every((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n === 0)).toBe(
      true,
    );
    const patched = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${endpoint.id}`, {
      ordering: "parallel",
    });
    expect(patched.body.ordering).toBe("parallel");
    await eventually(async () => {
      const seen = new Set(
        receiver.received.map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n),
      );
      return seen.has(1) && seen.has(2) ? true : undefined;
    });
  });
});
