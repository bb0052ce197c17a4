import { newId } from "@herald/core";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { type ApiAnswer, createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";

/**
 * Concurrent emits share transactions (group commit). What this file checks is that sharing is
 * invisible to every caller: each answer is that request's own, whatever its neighbours did.
 */
describe("concurrent emits share transactions, each answered with its own result", () => {
  const scene = useHerald({ dispatcher: false });
  let jobTable: string;
  beforeAll(async () => {
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM pgboss.queue WHERE name = 'attempts'
    `.execute(scene.herald.database.db);
    jobTable = `pgboss.${rows[0]!.table_name}`;
  });

  const emit = (merchant: string, body: unknown, headers: Record<string, string> = {}) =>
    scene.herald.api("POST", `/v1/merchants/${merchant}/events`, body, { headers });

  /** Per stored event: how many deliveries and attempt jobs it has, and which transaction wrote it. */
  async function stored(merchants: string[]) {
    const { rows } = await sql<{ id: string; data: unknown; deliveries: number; jobs: number; tx: string }>`
      SELECT e.id, (e.body::jsonb)->'data' AS data, e.xmin::text AS tx,
        (SELECT count(*)::int FROM deliveries d WHERE d.event_id = e.id) AS deliveries,
        (SELECT count(*)::int FROM pgboss.job j WHERE j.name = 'attempts'
          AND j.data->>'delivery_id' IN (SELECT id FROM deliveries d WHERE d.event_id = e.id)) AS jobs
      FROM events e WHERE e.merchant_id IN (${sql.join(merchants)})
    `.execute(scene.herald.database.db);
    return new Map(rows.map((r) => [r.id, r]));
  }

  it("200 emits from two merchants, with a conflict, replays, an unknown merchant and bad input", async () => {
    const { herald, receiver } = scene;
    const one = await createMerchant(herald, "One");
    const two = await createMerchant(herald, "Two");
    await createEndpoint(herald, one, { url: `${receiver.url}/one` });
    await createEndpoint(herald, two, { url: `${receiver.url}/two-a` });
    await createEndpoint(herald, two, { url: `${receiver.url}/two-b` });
    const stranger = newId("merchant");

    type Case = {
      expect: "stored" | "replay-or-stored" | "conflict-or-stored" | 404 | 400;
      answer: Promise<ApiAnswer>;
    };
    const cases: Case[] = [];
    for (let i = 0; i < 200; i++) {
      const merchant = i % 2 === 0 ? one : two;
      if (i === 50) {
        cases.push({ expect: 404, answer: emit(stranger, { type: "a.b", mode: "test", data: { i } }) });
      } else if (i === 60) {
        cases.push({
          expect: 400,
          answer: emit(merchant, { type: "not a type!", mode: "test", data: { i } }),
        });
      } else if (i === 70) {
        cases.push({
          expect: 400,
          answer: emit(merchant, `{"type":"a.b","mode":"test","data":{"n":1e400}}`),
        });
      } else if (i % 40 === 5) {
        // The same key and data, five times: one stores, the others replay it.
        cases.push({
          expect: "replay-or-stored",
          answer: emit(one, { type: "a.b", mode: "test", data: { k: "same" } }, { "idempotency-key": "dup" }),
        });
      } else if (i === 99 || i === 100) {
        // One key, two different requests: whichever writes first stores, the other answers 409.
        cases.push({
          expect: "conflict-or-stored",
          answer: emit(two, { type: "a.b", mode: "test", data: { i } }, { "idempotency-key": "clash" }),
        });
      } else {
        cases.push({ expect: "stored", answer: emit(merchant, { type: "a.b", mode: "test", data: { i } }) });
      }
    }
    const answers = await Promise.all(cases.map((c) => c.answer));

    const rows = await stored([one, two]);
    const ids = new Set<string>();
    let replays = 0;
    let conflicts = 0;
    for (const [index, answer] of answers.entries()) {
      const kind = cases[index]!.expect;
      if (kind === 404 || kind === 400) {
        expect(answer.status, `request ${index}`).toBe(kind);
        expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        continue;
      }
      if (kind === "conflict-or-stored" && answer.status === 409) {
        conflicts++;
        expect(answer.body).toMatchObject({ field: "idempotency-key", status: 409 });
        continue;
      }
      expect(answer.status, `request ${index}`).toBe(202);
      const row = rows.get(answer.body.id);
      expect(row, `request ${index}'s event is stored`).toBeDefined();
      expect(answer.body.deliveries).toBe(row!.deliveries);
      expect(row!.jobs).toBe(row!.deliveries);
      if (answer.headers.get("idempotent-replayed") === "true") {
        replays++;
        continue;
      }
      // Its own result: the event stored under the id it was answered holds its own data.
      const sent = kind === "replay-or-stored" ? { k: "same" } : { i: index };
      expect(row!.data).toEqual(sent);
      ids.add(answer.body.id);
    }
    expect(replays).toBe(4);
    expect(conflicts).toBe(1);
    // Every stored event was answered to exactly one request, and nothing else was stored.
    expect(ids.size).toBe(rows.size);
    expect(rows.size).toBe(200 - 3 - 4 - 1);
    // And they did share transactions.
    expect(new Set([...rows.values()].map((r) => r.tx)).size).toBeLessThan(rows.size);
  });

  it("a shared write that fails is written again per request: only the culprit fails, nothing doubles", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/p` });
    await herald.database.pool.query(`
      CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'poisoned'; END $$;
      CREATE TRIGGER poison BEFORE INSERT ON deliveries
        FOR EACH ROW WHEN (NEW.event_type = 'poison.pill') EXECUTE FUNCTION poison();
    `);
    try {
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          emit(merchant, { type: i % 20 === 7 ? "poison.pill" : "a.b", mode: "test", data: { i } }),
        ),
      );

      const rows = await stored([merchant]);
      for (const [i, answer] of answers.entries()) {
        if (i % 20 === 7) {
          expect(answer.status).toBe(500);
          expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        } else {
          expect(answer.status, `request ${i}`).toBe(202);
          expect(rows.get(answer.body.id)).toMatchObject({ data: { i }, deliveries: 1, jobs: 1 });
        }
      }
      expect(rows.size).toBe(57);
    } finally {
      await herald.database.pool.query(`DROP TRIGGER poison ON deliveries; DROP FUNCTION poison();`);
    }
    const { rows: orphans } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.raw(jobTable)} j
      WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = j.data->>'delivery_id')
    `.execute(herald.database.db);
    expect(orphans[0]!.n).toBe(0);
  });

  it("a batch emit shares the path: a batch and singles in flight together each get their own results", async () => {
    const { herald, receiver } = scene;
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/b` });
    const [batch, ...singles] = await Promise.all([
      herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
        events: Array.from({ length: 50 }, (_, i) => ({
          type: "a.b",
          mode: "test",
          data: { batch: i },
          idempotency_key: `b-${i % 25}`,
        })),
      }),
      ...Array.from({ length: 30 }, (_, i) =>
        emit(merchant, { type: "a.b", mode: "test", data: { single: i } }),
      ),
    ]);

    expect(batch!.status).toBe(202);
    const results = batch!.body.data as { id?: string; replayed?: boolean; error?: { field: string } }[];
    expect(results.slice(0, 25).every((r) => r.replayed === false)).toBe(true);
    // The second 25 reuse the first 25 keys with other data: 409 each, for that event alone.
    expect(results.slice(25).map((r) => r.error?.field)).toEqual(
      Array.from({ length: 25 }, (_, i) => `events.${25 + i}.idempotency_key`),
    );
    const rows = await stored([merchant]);
    for (const [i, single] of singles.entries()) {
      expect(single!.status).toBe(202);
      expect(rows.get(single!.body.id)).toMatchObject({ data: { single: i }, deliveries: 1, jobs: 1 });
    }
    expect(rows.size).toBe(25 + 30);
  });
});
