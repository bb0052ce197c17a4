import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import { merchantWithEndpoint, useHerald } from "./support/fixture.ts";

describe("POST /test waits for its attempt without polling the database", () => {
  // Answers after 2 s: the API has that long to wait.
  const scene = useHerald({
    dispatcher: false,
    receiver: { status: 200, body: "took my time", delayMs: 2000 },
  });
  let dispatcher: DispatcherProcess;
  beforeAll(async () => {
    dispatcher = await spawnDispatcher(scene.herald);
  });
  afterAll(() => {
    dispatcher.child.kill("SIGKILL");
  });

  /** Statements committed on the database so far (every autocommit query counts one). */
  async function commits(): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`.execute(
      scene.herald.database.db,
    );
    return Number(rows[0]!.n);
  }

  it("twenty test calls held 2 s by the receiver cost a handful of queries each, and answer with the attempt", async () => {
    const { herald, receiver } = scene;
    const { merchant, endpoint } = await merchantWithEndpoint(herald, { url: `${receiver.url}/hook` });
    // pg_stat_database is updated when a backend reports; force our own view fresh.
    await sql`SELECT pg_stat_clear_snapshot()`.execute(herald.database.db);
    const before = await commits();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/test`),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.attempt).toMatchObject({
        trigger: "test",
        response_status: 200,
        response_body: "took my time",
      });
    }
    // Let every backend report its counters (they do so at most every second when idle).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await sql`SELECT pg_stat_clear_snapshot()`.execute(herald.database.db);
    const spent = (await commits()) - before;
    // Polling every 25 ms would have cost 20 calls × 80 polls = 1600 statements; a wake-up costs
    // each call its writes and two reads, the dispatcher a few dozen statements for the lot.
    expect(spent).toBeLessThan(400);
  });
});
