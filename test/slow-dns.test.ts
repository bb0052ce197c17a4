import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  createEndpoint,
  createMerchant,
  emit,
  Receiver,
  settledDelivery,
  startTestHerald,
  type TestHerald,
  useHerald,
} from "./support/fixture.ts";

/**
 * A nameserver on 127.0.0.1 (UDP): names under `fast.test` are 127.0.0.1, names under `slow.test`
 * are never answered, as a nameserver that is down or filtered would. Counts the questions.
 */
async function fakeNameserver(): Promise<{
  address: string;
  asked: Map<string, number>;
  close(): Promise<void>;
}> {
  const asked = new Map<string, number>();
  const socket: Socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    // Header (12 bytes), then the question: labels, a zero, type (2) and class (2).
    const labels: string[] = [];
    let at = 12;
    while (query[at]! > 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString("latin1"));
      at += query[at]! + 1;
    }
    const questionEnd = at + 5;
    const type = query.readUInt16BE(at + 1);
    const name = labels.join(".").toLowerCase();
    asked.set(name, (asked.get(name) ?? 0) + 1);
    if (!name.endsWith("fast.test")) return;
    const answers = type === 1 ? 1 : 0;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers, 6);
    const question = query.subarray(12, questionEnd);
    // A pointer to the question's name, type A, class IN, TTL 60, four bytes: 127.0.0.1.
    const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    socket.send(Buffer.concat([header, question, ...(answers ? [record] : [])]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

describe("slow DNS for some endpoints does not hold up the others", () => {
  let nameserver: Awaited<ReturnType<typeof fakeNameserver>>;
  beforeAll(async () => {
    nameserver = await fakeNameserver();
  });
  afterAll(() => nameserver.close());
  const scene = useHerald({ env: () => ({ HERALD_DNS_SERVERS: nameserver.address }) });

  it("40 endpoints whose names never resolve fail as dns within their timeout; healthy names deliver at once", async () => {
    const { herald, receiver } = scene;
    const port = new URL(receiver.url).port;
    const slow = await createMerchant(herald, "Slow names");
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        createEndpoint(herald, slow, { url: `http://hook-${i}.slow.test:${port}/hook`, timeout_ms: 2000 }),
      ),
    );
    const healthy = await createMerchant(herald, "Healthy");
    await createEndpoint(herald, healthy, { url: `http://hooks.fast.test:${port}/hook` });

    const stuck = await emit(herald, slow);
    const lags: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { delivery, attempts } = await settledDelivery(herald, await emit(herald, healthy));
      expect(delivery.status).toBe("succeeded");
      lags.push(attempts[0]!.started_at.getTime() - attempts[0]!.scheduled_at.getTime());
    }
    // The healthy ones did not wait for the slow lookups (2 s each) to give up.
    expect(Math.max(...lags)).toBeLessThan(1000);
    expect(receiver.received).toHaveLength(5);
    // Looked up once and then answered from the cache.
    expect(nameserver.asked.get("hooks.fast.test")).toBeLessThanOrEqual(2);

    const recorded = await waitForRows(herald, stuck, 40);
    expect(recorded).toHaveLength(40);
    for (const row of recorded) {
      expect(row.error).toBe("dns");
      // Inside the attempt's own timeout.
      expect(row.duration_ms).toBeLessThan(3000);
    }
  });
});

async function waitForRows(herald: TestHerald, eventId: string, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await herald.database.db
      .selectFrom("attempts")
      .innerJoin("deliveries", "deliveries.id", "attempts.delivery_id")
      .select(["attempts.error", "attempts.duration_ms", "attempts.error_detail", "attempts.delivery_id"])
      .where("deliveries.event_id", "=", eventId)
      .where("attempts.number", "=", 1)
      .execute();
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("names looked up through the resolver still meet the SSRF guard", () => {
  it("a name that resolves to loopback is refused as blocked_target when loopback is not allowed", async () => {
    const nameserver = await fakeNameserver();
    const receiver = await Receiver.start();
    const herald = await startTestHerald({
      HERALD_DNS_SERVERS: nameserver.address,
      HERALD_ALLOWED_CIDRS: "",
    });
    try {
      const merchant = await createMerchant(herald, "Rebinder");
      await createEndpoint(herald, merchant, {
        url: `http://inside.fast.test:${new URL(receiver.url).port}/hook`,
      });
      const { attempts } = await attemptsRecorded(herald, await emit(herald, merchant), 1);
      expect(attempts[0]!.error).toBe("blocked_target");
    } finally {
      await herald.stop();
      await receiver.close();
      await nameserver.close();
    }
    expect(receiver.received).toHaveLength(0);
  });
});
