import { afterAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import { emitBatch, eventually, merchantWithEndpoint, useHerald } from "./support/fixture.ts";

describe("the per-endpoint in-flight cap holds across dispatcher processes", () => {
  // The most requests the receiver ever had open at once; each is answered 200 after 50 ms.
  let most = 0;
  const scene = useHerald({
    dispatcher: false,
    receiver: () => {
      most = Math.max(most, scene.receiver.waiting.size);
      return { status: 200, body: "ok", delayMs: 50 };
    },
  });
  const dispatchers: DispatcherProcess[] = [];
  afterAll(() => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
  });

  it("three dispatchers, 150 events to one endpoint with a cap of 3: never more than 3 requests open", async () => {
    const { herald, receiver } = scene;
    const { merchant } = await merchantWithEndpoint(herald, { url: `${receiver.url}/hook` });
    const env = { HERALD_ENDPOINT_CONCURRENCY: "3" };
    dispatchers.push(
      ...(await Promise.all([
        spawnDispatcher(herald, env),
        spawnDispatcher(herald, env),
        spawnDispatcher(herald, env),
      ])),
    );
    for (let sent = 0; sent < 150; sent += 50) await emitBatch(herald, merchant, 50);
    await eventually(async () => {
      const settled = await herald.database.db
        .selectFrom("deliveries")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("status", "=", "succeeded")
        .executeTakeFirstOrThrow();
      return Number(settled.n) === 150 ? true : undefined;
    }, 60_000);
    expect(receiver.received).toHaveLength(150);
    expect(most).toBeLessThanOrEqual(3);
    // The cap is used, not merely respected.
    expect(most).toBe(3);
  }, 90_000);
});
