import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

describe("a dispatcher whose database connections are cut carries on without a restart", () => {
  const scene = useHerald();

  function listeners() {
    const { herald } = scene;
    return sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'herald-dispatcher-listen'
    `.execute(herald.database.db);
  }

  it("reconnects its LISTEN connection and delivers what is emitted afterwards", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: receiver.url });
    expect((await settledDelivery(herald, await emit(herald, merchant))).delivery.status).toBe("succeeded");
    expect((await listeners()).rows[0]!.n).toBe(1);

    // What a Postgres restart does to every session of this database but the test's own.
    await sql`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
    `.execute(herald.database.db);

    await eventually(async () => ((await listeners()).rows[0]!.n === 1 ? true : undefined), 10_000);
    const after = await eventually(async () => {
      try {
        return await emit(herald, merchant);
      } catch {
        return undefined;
      }
    }, 10_000);
    const found = await settledDelivery(herald, after);
    expect(found.delivery.status).toBe("succeeded");
    expect(found.attempts).toHaveLength(1);
    expect(receiver.received.map((r) => r.headers["webhook-id"])).toContain(after);
  });
});
