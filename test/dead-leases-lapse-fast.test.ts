import { afterAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import { eventually, merchantWithEndpoint, settledDelivery, useHerald } from "./support/fixture.ts";

describe("a SIGKILLed dispatcher's attempts come back within seconds", () => {
  // Arrival times per webhook-id; the first request of each is held open and never answered.
  const arrivals = new Map<string, number[]>();
  const scene = useHerald({
    dispatcher: false,
    receiver: (request) => {
      const id = String(request.headers["webhook-id"]);
      const seen = arrivals.get(id) ?? [];
      seen.push(performance.now());
      arrivals.set(id, seen);
      return seen.length > 1 ? { status: 200, body: "ok" } : { status: 200, hold: true };
    },
  });
  const dispatchers: DispatcherProcess[] = [];
  afterAll(() => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
  });

  it("re-sent by another dispatcher about 5 s after the kill, well before pg-boss's own 10 s heartbeat", async () => {
    const { herald, receiver } = scene;
    // A long timeout: the attempts would otherwise end on their own.
    const { merchant } = await merchantWithEndpoint(herald, {
      url: `${receiver.url}/hook`,
      timeout_ms: 30_000,
    });
    const doomed = await spawnDispatcher(herald);
    dispatchers.push(doomed);
    const events: string[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
        type: "payment.succeeded",
        mode: "test",
        data: { i },
      });
      events.push(answer.body.id);
    }
    await eventually(async () => (arrivals.size === 6 ? true : undefined));
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const killedAt = performance.now();
    // Another dispatcher, as an orchestrator would start; it sweeps the lapsed leases.
    dispatchers.push(await spawnDispatcher(herald));
    for (const eventId of events) {
      const { delivery } = await settledDelivery(herald, eventId, 25_000);
      expect(delivery.status).toBe("succeeded");
    }
    for (const [id, times] of arrivals) {
      expect(times.length, id).toBe(2);
      // Held by the dead process until its leases lapsed (5 s), then swept back and re-sent.
      expect(times[1]! - killedAt, id).toBeLessThan(8_500);
    }
  }, 60_000);
});
