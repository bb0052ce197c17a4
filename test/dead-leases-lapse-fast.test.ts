import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settledDelivery } from "./support/deliveries.ts";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
} from "./support/herald.ts";

describe("a SIGKILLed dispatcher's attempts come back within seconds", () => {
  let herald: TestHerald;
  let server: Server;
  let url: string;
  // Arrival times per webhook-id; the first request of each is held open and never answered.
  const arrivals = new Map<string, number[]>();
  const dispatchers: DispatcherProcess[] = [];

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_TEST_NO_DISPATCHER: "1" });
    server = createServer((req, res) => {
      const id = String(req.headers["webhook-id"]);
      const seen = arrivals.get(id) ?? [];
      seen.push(performance.now());
      arrivals.set(id, seen);
      req.resume();
      if (seen.length > 1) res.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
    server.closeAllConnections();
    server.close();
    await herald.stop();
  });

  it("re-sent by another dispatcher about 5 s after the kill, well before pg-boss's own 10 s heartbeat", async () => {
    const merchant = await createMerchant(herald);
    // A long timeout: the attempts would otherwise end on their own.
    await createEndpoint(herald, merchant, { url, timeout_ms: 30_000 });
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
