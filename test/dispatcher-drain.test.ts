import { afterAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import {
  allSucceeded,
  attemptJobStates,
  deliveriesOfEvents,
  emitBatch,
  eventually,
  merchantWithEndpoint,
  useHerald,
  useReceivers,
} from "./support/fixture.ts";

describe("SIGTERM drains attempts in flight before the dispatcher exits", () => {
  // The API alone in this process; the dispatchers run as processes of their own.
  const scene = useHerald({ dispatcher: false });
  const startReceiver = useReceivers();
  const dispatchers: DispatcherProcess[] = [];

  async function start(env: Record<string, string> = {}) {
    const dispatcher = await spawnDispatcher(scene.herald, env);
    dispatchers.push(dispatcher);
    return dispatcher;
  }
  afterAll(() => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
  });

  async function emitMany(url: string, count: number, endpointFields: Record<string, unknown> = {}) {
    const { merchant } = await merchantWithEndpoint(scene.herald, { url, ...endpointFields });
    return emitBatch(scene.herald, merchant, count);
  }

  it("finishes and records the attempts in flight, takes no new ones, exits 0; nothing is sent twice", async () => {
    const receiver = await startReceiver({ delayMs: 1000 });
    const eventIds = await emitMany(`${receiver.url}/hook`, 30);
    const first = await start();
    // Ten in flight (the endpoint's limit), each answered after one second.
    await eventually(async () => (receiver.waiting.size === 10 ? true : undefined));

    first.child.kill("SIGTERM");
    const exit = await first.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // Drained, not given up on: the dispatcher says nothing of unfinished attempts.
    expect(first.output()).not.toContain("drain time over");
    expect(receiver.webhookIds).toHaveLength(10);
    const afterDrain = await deliveriesOfEvents(scene.herald, eventIds);
    const sent = new Set(receiver.webhookIds);
    for (const delivery of afterDrain) {
      expect(delivery).toMatchObject(
        sent.has(delivery.event_id)
          ? { status: "succeeded", attempt_count: 1 }
          : { status: "pending", attempt_count: 0 },
      );
    }

    const second = await start();
    await allSucceeded(scene.herald, eventIds, 20_000);
    expect(receiver.webhookIds).toHaveLength(30);
    expect(new Set(receiver.webhookIds)).toEqual(new Set(eventIds));
    second.child.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 40_000);

  it("gives up after the drain time and hands what is still running back, for another dispatcher at once", async () => {
    const receiver = await startReceiver({ hold: true });
    const [eventId] = await emitMany(`${receiver.url}/hook`, 1, { timeout_ms: 30_000 });
    const first = await start();
    await eventually(async () => (receiver.received.length === 1 ? true : undefined));

    const signalled = Date.now();
    first.child.kill("SIGTERM");
    const exit = await first.exited;
    const stoppedInMs = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    // The drain waits its 10 s (a lower bound, which load cannot break), then gives up on the
    // attempt rather than waiting for its 30 s timeout, and says so.
    expect(stoppedInMs).toBeGreaterThanOrEqual(10_000);
    expect(first.output()).toMatch(/"attempts":1,.*drain time over; handing unfinished attempts back/);
    const [delivery] = await deliveriesOfEvents(scene.herald, [eventId!]);
    expect(delivery).toMatchObject({ event_id: eventId, status: "pending", attempt_count: 0 });
    // Handed back, not left to its lease: its job is runnable again, no longer held.
    const states = await attemptJobStates(scene.herald, delivery!.id);
    expect(states.length).toBeGreaterThan(0);
    expect(states).not.toContain("active");

    // The next dispatcher sends it again.
    await start();
    await eventually(async () => (receiver.received.length === 2 ? true : undefined), 20_000);
    expect(receiver.webhookIds).toEqual([eventId, eventId]);
  }, 60_000);
});
