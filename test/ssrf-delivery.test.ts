import { afterAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  eventually,
  startTestHerald,
  type TestHerald,
  useHerald,
} from "./support/fixture.ts";

describe("the SSRF guard refuses internal targets at delivery time", () => {
  // Endpoints are registered (and events emitted) while loopback is allowed, by an API alone…
  const scene = useHerald({ dispatcher: false });
  let guarded: TestHerald | undefined;
  afterAll(() => guarded?.stop());

  it("records blocked_target for loopback names and literals, and the receiver gets nothing", async () => {
    const { herald: registrar, receiver } = scene;
    const port = new URL(receiver.url).port;
    const urls = [
      `http://localhost:${port}/hook`,
      `http://127.0.0.1:${port}/hook`,
      `http://[::1]:${port}/hook`,
    ];
    const merchant = await createMerchant(registrar);
    const endpoints = new Map<string, string>();
    for (const url of urls) endpoints.set((await createEndpoint(registrar, merchant, { url })).id, url);
    const emitted = await registrar.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "payment.succeeded",
      mode: "test",
      data: {},
    });
    expect(emitted.body.deliveries).toBe(3);

    // …and delivered by a Herald whose guard has no exceptions.
    guarded = await startTestHerald({ HERALD_ALLOWED_CIDRS: "" }, { sameDatabaseAs: registrar });
    const attempts = await eventually(async () => {
      const rows = await registrar.database.db
        .selectFrom("attempts")
        .innerJoin("deliveries", "deliveries.id", "attempts.delivery_id")
        .select([
          "attempts.endpoint_id",
          "attempts.error",
          "attempts.error_detail",
          "attempts.response_status",
        ])
        .where("deliveries.event_id", "=", emitted.body.id)
        .execute();
      return rows.length === 3 ? rows : undefined;
    });

    for (const attempt of attempts) {
      const host = new URL(endpoints.get(attempt.endpoint_id)!).hostname;
      expect(attempt.error).toBe("blocked_target");
      expect(attempt.response_status).toBeNull();
      expect(attempt.error_detail).toMatch(
        /^refusing to connect to (127\.0\.0\.1|::1)\b.*: loopback address$/,
      );
      if (host === "localhost") expect(attempt.error_detail).toContain("(resolved from localhost)");
    }
    const deliveries = await registrar.database.db
      .selectFrom("deliveries")
      .select(["status", "last_error"])
      .where("event_id", "=", emitted.body.id)
      .execute();
    // Blocked is a failure like any other: retried on schedule, where the guard refuses again.
    expect(deliveries).toEqual(Array(3).fill({ status: "pending", last_error: "blocked_target" }));
    // Each attempt is recorded after its connection was refused: none reached the receiver.
    expect(receiver.received).toHaveLength(0);
  });
});
