import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, emit, useHerald } from "./support/fixture.ts";

describe("one endpoint that never answers does not delay the others", () => {
  // Four attempts in flight in the process, at most two per endpoint; the file's receiver is healthy.
  const scene = useHerald({ env: { HERALD_DISPATCHER_CONCURRENCY: "4", HERALD_ENDPOINT_CONCURRENCY: "2" } });
  const dead = { open: 0, maxOpen: 0, connections: 0 };
  const sockets = new Set<Socket>();
  const deadServer = createServer((socket) => {
    sockets.add(socket);
    dead.connections++;
    dead.open++;
    dead.maxOpen = Math.max(dead.maxOpen, dead.open);
    socket.on("error", () => {});
    socket.on("close", () => {
      dead.open--;
      sockets.delete(socket);
    });
    // Reads the request and never answers.
    socket.resume();
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => deadServer.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => deadServer.close(resolve));
  });

  it("20 events to a dead endpoint, then 20 to a healthy one: the healthy ones arrive at once", async () => {
    const { herald, receiver: healthy } = scene;
    const deadMerchant = await createMerchant(herald, "Dead");
    await createEndpoint(herald, deadMerchant, {
      url: `http://127.0.0.1:${(deadServer.address() as AddressInfo).port}/hook`,
      timeout_ms: 1000,
    });
    const liveMerchant = await createMerchant(herald, "Live");
    await createEndpoint(herald, liveMerchant, { url: healthy.url });

    const deadEvents: string[] = [];
    for (let i = 0; i < 20; i++) deadEvents.push(await emit(herald, deadMerchant));
    for (let i = 0; i < 20; i++) await emit(herald, liveMerchant);
    await healthy.waitFor(20, 15_000);

    // Counted the moment the last healthy one arrived.
    const deadAttempts = await herald.database.db
      .selectFrom("attempts")
      .innerJoin("deliveries", "deliveries.id", "attempts.delivery_id")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("deliveries.event_id", "in", deadEvents)
      .executeTakeFirstOrThrow();

    // Behind the dead endpoint, the healthy ones would have waited for all 20 of its 1 s timeouts:
    // they all arrived while it was still timing out its first attempts, two at a time, never more.
    expect(deadAttempts.n).toBeLessThan(20);
    expect(dead.maxOpen).toBe(2);
  }, 20_000);
});
