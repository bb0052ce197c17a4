import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "./support/herald.ts";

/** A receiver that answers 200 after `delayMs`, or never when it is null. */
class DelayedReceiver {
  readonly ids: string[] = [];
  readonly waiting = new Set<ServerResponse>();
  readonly server: Server;

  constructor(delayMs: number | null) {
    this.server = createServer((request, response) => {
      this.waiting.add(response);
      response.on("close", () => this.waiting.delete(response));
      request.resume();
      request.on("end", () => {
        this.ids.push(String(request.headers["webhook-id"]));
        if (delayMs !== null) setTimeout(() => response.end("ok"), delayMs);
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe("SIGTERM drains attempts in flight before the dispatcher exits", () => {
  let herald: TestHerald;
  const dispatchers: DispatcherProcess[] = [];
  const receivers: DelayedReceiver[] = [];

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_TEST_NO_DISPATCHER: "1" });
  });
  afterAll(async () => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
    await herald.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function start(env: Record<string, string> = {}) {
    const dispatcher = await spawnDispatcher(herald, env);
    dispatchers.push(dispatcher);
    return dispatcher;
  }

  async function emitMany(url: string, count: number, endpointFields: Record<string, unknown> = {}) {
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url, ...endpointFields });
    const batch = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: Array.from({ length: count }, (_, i) => ({
        type: "payment.succeeded",
        mode: "test",
        data: { i },
      })),
    });
    return batch.body.data.map((e: { id: string }) => e.id) as string[];
  }

  function deliveriesOf(eventIds: string[]) {
    return herald.database.db
      .selectFrom("deliveries")
      .select(["event_id", "status", "attempt_count"])
      .where("event_id", "in", eventIds)
      .execute();
  }

  it("finishes and records the attempts in flight, takes no new ones, exits 0; nothing is sent twice", async () => {
    const receiver = new DelayedReceiver(1000);
    receivers.push(receiver);
    const url = await receiver.start();
    const eventIds = await emitMany(url, 30);
    const first = await start();
    // Ten in flight (the endpoint's limit), each answered after one second.
    await eventually(async () => (receiver.waiting.size === 10 ? true : undefined));

    const signalled = Date.now();
    first.child.kill("SIGTERM");
    const exit = await first.exited;
    const drainedInMs = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(drainedInMs).toBeLessThan(3000);
    expect(receiver.ids).toHaveLength(10);
    const afterDrain = await deliveriesOf(eventIds);
    const sent = new Set(receiver.ids);
    for (const delivery of afterDrain) {
      expect(delivery).toMatchObject(
        sent.has(delivery.event_id)
          ? { status: "succeeded", attempt_count: 1 }
          : { status: "pending", attempt_count: 0 },
      );
    }

    const second = await start();
    await eventually(async () => {
      const rows = await deliveriesOf(eventIds);
      return rows.every((d) => d.status === "succeeded") ? true : undefined;
    }, 20_000);
    expect(receiver.ids).toHaveLength(30);
    expect(new Set(receiver.ids)).toEqual(new Set(eventIds));
    second.child.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
    console.info(`drain: 10 attempts in flight drained, recorded and exited in ${drainedInMs} ms`);
  }, 40_000);

  it("gives up after the drain time and hands what is still running back, for another dispatcher at once", async () => {
    const receiver = new DelayedReceiver(null);
    receivers.push(receiver);
    const url = await receiver.start();
    const [eventId] = await emitMany(url, 1, { timeout_ms: 30_000 });
    const first = await start();
    await eventually(async () => (receiver.ids.length === 1 ? true : undefined));

    const signalled = Date.now();
    first.child.kill("SIGTERM");
    const exit = await first.exited;
    const stoppedInMs = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    // The drain waits 10 s, not the attempt's 30 s timeout.
    expect(stoppedInMs).toBeGreaterThanOrEqual(10_000);
    expect(stoppedInMs).toBeLessThan(13_000);
    expect(await deliveriesOf([eventId!])).toEqual([
      { event_id: eventId, status: "pending", attempt_count: 0 },
    ]);

    // Handed back, not left to its lease: the next dispatcher sends it as soon as it starts.
    const restarted = Date.now();
    await start();
    await eventually(async () => (receiver.ids.length === 2 ? true : undefined), 5000);
    const resentInMs = Date.now() - restarted;
    expect(receiver.ids).toEqual([eventId, eventId]);
    console.info(
      `drain: gave up after ${stoppedInMs} ms; the handed-back attempt was re-sent ${resentInMs} ms after a restart`,
    );
  }, 40_000);
});
