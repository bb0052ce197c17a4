import { createServer, type Server } from "node:http";
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

/** Answers 200 after `holdMs`; remembers the most requests it ever had open at once. */
async function countingReceiver(holdMs: number) {
  let open = 0;
  let most = 0;
  let answered = 0;
  const server: Server = createServer((req, res) => {
    open++;
    most = Math.max(most, open);
    req.resume();
    setTimeout(() => {
      open--;
      answered++;
      res.writeHead(200).end("ok");
    }, holdMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    most: () => most,
    answered: () => answered,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the per-endpoint in-flight cap holds across dispatcher processes", () => {
  let herald: TestHerald;
  let receiver: Awaited<ReturnType<typeof countingReceiver>>;
  const dispatchers: DispatcherProcess[] = [];

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_TEST_NO_DISPATCHER: "1" });
    receiver = await countingReceiver(50);
  });
  afterAll(async () => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
    await herald.stop();
    await receiver.close();
  });

  it("three dispatchers, 150 events to one endpoint with a cap of 3: never more than 3 requests open", async () => {
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: receiver.url });
    const env = { HERALD_ENDPOINT_CONCURRENCY: "3" };
    dispatchers.push(
      ...(await Promise.all([
        spawnDispatcher(herald, env),
        spawnDispatcher(herald, env),
        spawnDispatcher(herald, env),
      ])),
    );
    for (let sent = 0; sent < 150; sent += 50) {
      const batch = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
        events: Array.from({ length: 50 }, (_, i) => ({
          type: "payment.succeeded",
          mode: "test",
          data: { i },
        })),
      });
      expect(batch.status).toBeLessThan(300);
    }
    await eventually(async () => {
      const settled = await herald.database.db
        .selectFrom("deliveries")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("status", "=", "succeeded")
        .executeTakeFirstOrThrow();
      return Number(settled.n) === 150 ? true : undefined;
    }, 60_000);
    expect(receiver.answered()).toBe(150);
    expect(receiver.most()).toBeLessThanOrEqual(3);
    // The cap is used, not merely respected.
    expect(receiver.most()).toBe(3);
  }, 90_000);
});
