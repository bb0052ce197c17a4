import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DispatcherProcess, spawnDispatcher } from "./support/dispatcher-process.ts";
import { createEndpoint, createMerchant, startTestHerald, type TestHerald } from "./support/herald.ts";

describe("POST /test waits for its attempt without polling the database", () => {
  let herald: TestHerald;
  let dispatcher: DispatcherProcess;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_TEST_NO_DISPATCHER: "1" });
    dispatcher = await spawnDispatcher(herald);
    // Answers after 2 s: the API has that long to wait.
    server = createServer((req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(200).end("took my time"), 2000);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    dispatcher.child.kill("SIGKILL");
    server.closeAllConnections();
    server.close();
    await herald.stop();
  });

  /** Statements committed on the database so far (every autocommit query counts one). */
  async function commits(): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`.execute(
      herald.database.db,
    );
    return Number(rows[0]!.n);
  }

  it("twenty test calls held 2 s by the receiver cost a handful of queries each, and answer with the attempt", async () => {
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url });
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
