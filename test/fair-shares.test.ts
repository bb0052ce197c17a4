import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

/** Accepts connections, reads requests and never answers; counts the sockets it holds. */
async function silentServer(): Promise<{
  url: string;
  open(): number;
  most(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let most = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    most = Math.max(most, sockets.size);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    open: () => sockets.size,
    most: () => most,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("one merchant cannot take every dispatcher slot", () => {
  const scene = useHerald({
    env: {
      HERALD_DISPATCHER_CONCURRENCY: "64",
      HERALD_MERCHANT_CONCURRENCY: "16",
      HERALD_MAX_ENDPOINTS_PER_MERCHANT: "250",
    },
  });
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(() => silent.close());

  it("a merchant with 200 endpoints that never answer holds its share; another merchant's deliveries start at once", async () => {
    const { herald, receiver } = scene;
    const hog = await createMerchant(herald, "Hog");
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          createEndpoint(herald, hog, { url: `${silent.url}/hook/${i + j}`, timeout_ms: 8000 }),
        ),
      );
    }
    await emit(herald, hog);
    // Its share is in flight, held by the receiver...
    await eventually(async () => (silent.open() >= 16 ? true : undefined));

    const other = await createMerchant(herald, "Other");
    await createEndpoint(herald, other, { url: receiver.url });
    const lags: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { delivery, attempts } = await settledDelivery(herald, await emit(herald, other));
      expect(delivery.status).toBe("succeeded");
      lags.push(attempts[0]!.started_at.getTime() - attempts[0]!.scheduled_at.getTime());
    }
    // ...and never more than its share, while the other merchant's attempts start long before
    // any of the hog's would free a slot (8 s): they did not wait for one.
    expect(silent.most()).toBe(16);
    expect(Math.max(...lags)).toBeLessThan(2000);
  });
});

describe("endpoints per merchant are limited", () => {
  const scene = useHerald({ env: { HERALD_MAX_ENDPOINTS_PER_MERCHANT: "3" }, dispatcher: false });

  it("answers 409 naming the field beyond the quota, even to concurrent requests; deleting one makes room", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
          mode: "test",
          url: `https://example.com/${i}`,
        }),
      ),
    );
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(created).toHaveLength(3);
    expect(refused).toHaveLength(3);
    expect(refused[0]!.headers.get("content-type")).toContain("application/problem+json");
    expect(refused[0]!.body).toMatchObject({ status: 409, field: "mid" });
    expect(refused[0]!.body.detail).toContain("HERALD_MAX_ENDPOINTS_PER_MERCHANT");

    const gone = await herald.api("DELETE", `/v1/merchants/${merchant}/endpoints/${created[0]!.body.id}`);
    expect(gone.status).toBeLessThan(300);
    const again = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      mode: "test",
      url: "https://example.com/again",
    });
    expect(again.status).toBe(201);
    // Another merchant has its own quota.
    const other = await createMerchant(herald, "Other");
    await createEndpoint(herald, other, { url: "https://example.com/other" });
  });
});
