import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  createEndpoint,
  createMerchant,
  deliveryOf,
  emit,
  eventually,
  settledDelivery,
  startTestHerald,
  useHerald,
} from "./support/fixture.ts";

describe("no delivery is left pending with nothing to send it", () => {
  // The API alone: jobs are queued and nobody takes them until a dispatcher starts.
  const scene = useHerald({ env: { HERALD_RETRY_TIME_SCALE: "0.001" }, dispatcher: false });

  it("an attempt that throws (a secret this key cannot open) is recorded as internal and follows the schedule", async () => {
    const { herald: api, receiver } = scene;
    const merchant = await createMerchant(api, "Wrong key");
    const endpoint = await createEndpoint(api, merchant, { url: `${receiver.url}/internal` });
    // As if sealed with another HERALD_ENCRYPTION_KEY.
    await sql`UPDATE endpoints SET secrets = jsonb_set(secrets, '{0,secret}', '"v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA"'), updated_at = now() WHERE id = ${endpoint.id}`.execute(
      api.database.db,
    );
    const eventId = await emit(api, merchant);
    const dispatcher = await startTestHerald({ HERALD_RETRY_TIME_SCALE: "0.001" }, { sameDatabaseAs: api });
    try {
      const { delivery, attempts } = await attemptsRecorded(api, eventId, 3);
      expect(attempts.map((a) => a.error)).toEqual(["internal", "internal", "internal"]);
      expect(attempts[0]!.error_detail).toBeTruthy();
      // Each on its own slot of the schedule, one after the other.
      expect(attempts[1]!.scheduled_at.getTime()).toBeGreaterThan(attempts[0]!.scheduled_at.getTime());
      expect(attempts[2]!.scheduled_at.getTime()).toBeGreaterThan(attempts[1]!.scheduled_at.getTime());
      expect(receiver.received.filter((r) => r.path === "/internal")).toHaveLength(0);
      expect(delivery.attempt_count).toBeGreaterThanOrEqual(3);
    } finally {
      await dispatcher.stop();
    }
  });

  it("a pending delivery whose job was deleted or failed for good is scheduled again by the reconciler", async () => {
    const { herald: api, receiver } = scene;
    const merchant = await createMerchant(api, "Lost jobs");
    await createEndpoint(api, merchant, { url: `${receiver.url}/lost` });
    const deleted = await emit(api, merchant);
    const failed = await emit(api, merchant);
    const idOf = async (eventId: string) => (await deliveryOf(api, eventId)).delivery.id;
    const db = api.database.db;
    const gone =
      await sql`DELETE FROM pgboss.job WHERE name = 'attempts' AND data->>'delivery_id' = ${await idOf(deleted)}`.execute(
        db,
      );
    expect(Number(gone.numAffectedRows)).toBe(1);
    const dead =
      await sql`UPDATE pgboss.job SET state = 'failed', completed_on = now() WHERE name = 'attempts' AND data->>'delivery_id' = ${await idOf(failed)}`.execute(
        db,
      );
    expect(Number(dead.numAffectedRows)).toBe(1);

    const dispatcher = await startTestHerald(
      { HERALD_RETRY_TIME_SCALE: "0.001", HERALD_RECONCILE_SECONDS: "0.2" },
      { sameDatabaseAs: api },
    );
    try {
      for (const eventId of [deleted, failed]) {
        const { delivery, attempts } = await settledDelivery(api, eventId);
        expect(delivery.status).toBe("succeeded");
        expect(attempts).toHaveLength(1);
      }
      const reconciled = await eventually(async () => {
        const answer = await dispatcher.api("GET", "/metrics", undefined, { key: null });
        const match = /^herald_reconciled_deliveries_total (\d+)/m.exec(String(answer.body));
        return match && Number(match[1]) >= 2 ? Number(match[1]) : undefined;
      });
      expect(reconciled).toBeGreaterThanOrEqual(2);
      // Only the lost ones: one attempt each, nothing sent twice.
      expect(receiver.received.filter((r) => r.path === "/lost")).toHaveLength(2);
    } finally {
      await dispatcher.stop();
    }
  });
});
