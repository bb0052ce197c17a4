import { afterAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import { allSucceeded, emitBatch, eventually, merchantWithEndpoint, useHerald } from "./support/fixture.ts";

describe("several dispatcher processes share the work without sending a scheduled attempt twice", () => {
  // Each event fails twice, then succeeds.
  const seen = new Map<string, number>();
  const scene = useHerald({
    dispatcher: false,
    receiver: (request) => {
      const id = String(request.headers["webhook-id"]);
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      return { status: count <= 2 ? 500 : 200 };
    },
  });
  const dispatchers: DispatcherProcess[] = [];
  afterAll(() => {
    for (const d of dispatchers) d.child.kill("SIGKILL");
  });

  it("two dispatchers, 100 events, three attempts each: exactly 300 requests, every attempt once", async () => {
    const { herald, receiver } = scene;
    // Retries 360 ms and 720 ms after the first attempt.
    const { merchant } = await merchantWithEndpoint(herald, {
      url: receiver.url,
      retry_policy: { custom: [3600, 3600] },
    });
    // Few attempts in flight each, so that neither can take the whole batch alone.
    const env = { HERALD_RETRY_TIME_SCALE: "0.0001", LOG_LEVEL: "debug", HERALD_DISPATCHER_CONCURRENCY: "8" };
    dispatchers.push(...(await Promise.all([spawnDispatcher(herald, env), spawnDispatcher(herald, env)])));
    const eventIds = await emitBatch(herald, merchant, 100);

    const deliveries = await allSucceeded(herald, eventIds);

    expect(receiver.received).toHaveLength(300);
    expect(deliveries.every((d) => d.attempt_count === 3)).toBe(true);
    const attempts = await herald.database.db
      .selectFrom("attempts")
      .select(["delivery_id", "number", "scheduled_at", "response_status"])
      .where(
        "delivery_id",
        "in",
        deliveries.map((d) => d.id),
      )
      .orderBy("delivery_id")
      .orderBy("number")
      .execute();
    expect(attempts).toHaveLength(300);
    for (let i = 0; i < 300; i += 3) {
      const [a, b, c] = attempts.slice(i, i + 3);
      expect([a!.number, b!.number, c!.number]).toEqual([1, 2, 3]);
      expect([a!.response_status, b!.response_status, c!.response_status]).toEqual([500, 500, 200]);
      expect(
        new Set([a!.scheduled_at.getTime(), b!.scheduled_at.getTime(), c!.scheduled_at.getTime()]).size,
      ).toBe(3);
    }
    // Both took part, and each logged every attempt it made with its delivery and number. A log
    // line crosses a pipe after its attempt is recorded, so the last ones may still be on their way.
    const attemptLogs = () =>
      dispatchers.map((d) =>
        d
          .output()
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line))
          .filter((entry) => entry.msg === "attempt recorded"),
      );
    await eventually(async () => (attemptLogs().flat().length >= 300 ? true : undefined), 5000).catch(
      () => {},
    );
    const logged = attemptLogs();
    expect(logged.every((entries) => entries.length > 0)).toBe(true);
    const all = logged.flat();
    expect(all).toHaveLength(300);
    expect(new Set(all.map((e) => `${e.delivery_id}#${e.attempt}`)).size).toBe(300);
    for (const entry of all) {
      expect(entry.delivery_id).toMatch(/^dlv_/);
      expect([1, 2, 3]).toContain(entry.attempt);
    }
    // Neither secrets nor payloads are in the logs, at any level.
    const everything = dispatchers.map((d) => d.output()).join("\n");
    expect(everything).not.toContain("webhook-signature");
    expect(everything).not.toContain('"data":{"i"');
  }, 60_000);
});
