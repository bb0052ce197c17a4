import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { verify } from "@herald/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emit, settledDelivery } from "./support/deliveries.ts";
import { createMerchant, eventually, startTestHerald, type TestHerald } from "./support/herald.ts";
import { Receiver } from "./support/receiver.ts";

const bin = new URL("../apps/cli/src/herald.ts", import.meta.url).pathname;

describe("herald listen forwards a relay endpoint's deliveries to a local server", () => {
  let first: TestHerald;
  let second: TestHerald;
  let local: Receiver;
  const children: ChildProcessWithoutNullStreams[] = [];

  beforeAll(async () => {
    first = await startTestHerald();
    // Another API and dispatcher process on the same database: the stream may be held by either.
    second = await startTestHerald({}, { sameDatabaseAs: first });
    local = await Receiver.start(() => ({
      status: 201,
      headers: { "x-local": "yes" },
      body: "handled locally",
    }));
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await local.close();
    await second.stop();
    await first.stop();
  });

  it("delivers signed through the CLI, records the local answer, and fails relay_disconnected once the CLI is gone", async () => {
    const merchant = await createMerchant(first, "Listen Shop");
    const key = (await first.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
    const cli = spawn(
      process.execPath,
      [bin, "--json", "listen", "--forward-to", `${local.url}/webhooks`, "--events", "payment.*"],
      {
        env: {
          PATH: process.env.PATH!,
          HERALD_URL: second.url,
          HERALD_API_KEY: key,
          HERALD_MERCHANT: merchant,
        },
      },
    );
    children.push(cli);
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: cli.stdout }).on("line", (line) => lines.push(JSON.parse(line)));
    const ready = await eventually(async () => lines.find((l) => l.ready), 20_000);
    expect(ready).toMatchObject({ event_types: ["payment.*"], secret: expect.stringMatching(/^whsec_/) });

    // The relay endpoint's url cannot be claimed by an endpoint of one's own.
    const hijack = await first.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: `relay://${ready.id}`,
      mode: "test",
    });
    expect(hijack.status).toBe(400);

    // Emitted through the first Herald; the CLI holds its stream on the second.
    const eventId = await emit(first, merchant, { type: "payment.succeeded", data: { amount: 4999 } });
    const [received] = await local.waitFor(1, 20_000);
    expect(received!.path).toBe("/webhooks");
    const event = await verify(received!.body, received!.headers as Record<string, string>, {
      secret: ready.secret as string,
    });
    expect(event).toMatchObject({ id: eventId, type: "payment.succeeded", data: { amount: 4999 } });

    const { delivery, attempts } = await settledDelivery(first, eventId);
    expect(delivery.status).toBe("succeeded");
    expect(attempts[0]).toMatchObject({
      response_status: 201,
      response_body: "handled locally",
      error: null,
      request_url: `relay://${ready.id}`,
    });
    expect(attempts[0]!.response_headers).toMatchObject({ "x-local": "yes" });
    const printed = await eventually(async () => lines.find((l) => l.delivery_id === delivery.id));
    expect(printed).toMatchObject({ type: "payment.succeeded", status: 201 });

    const unmatched = await emit(first, merchant, { type: "order.shipped" });
    expect((await first.api("GET", `/v1/merchants/${merchant}/events/${unmatched}`)).status).toBe(200);

    cli.kill("SIGINT");
    await new Promise((resolve) => cli.once("exit", resolve));
    const later = await emit(first, merchant, { type: "payment.refunded", data: {} });
    const failed = await eventually(async () => {
      const rows = await first.database.db
        .selectFrom("attempts")
        .innerJoin("deliveries", "deliveries.id", "attempts.delivery_id")
        .select(["attempts.error", "deliveries.status", "deliveries.next_attempt_at"])
        .where("deliveries.event_id", "=", later)
        .execute();
      return rows[0];
    }, 20_000);
    expect(failed.error).toBe("relay_disconnected");
    // It follows the relay endpoint's (test-mode) schedule like any failed attempt.
    expect(failed.status).toBe("pending");
    expect(failed.next_attempt_at).not.toBeNull();
    expect(local.received).toHaveLength(1);
  });

  it("lets a Herald holding a stream shut down; the CLI keeps trying to reconnect", async () => {
    const third = await startTestHerald({}, { sameDatabaseAs: first });
    const merchant = await createMerchant(first, "Shutdown Shop");
    const cli = spawn(process.execPath, [bin, "--json", "listen", "--forward-to", `${local.url}/webhooks`], {
      env: {
        PATH: process.env.PATH!,
        HERALD_URL: third.url,
        HERALD_API_KEY: first.adminKey,
        HERALD_MERCHANT: merchant,
      },
    });
    children.push(cli);
    let stderr = "";
    cli.stderr.on("data", (chunk) => (stderr += chunk));
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: cli.stdout }).on("line", (line) => lines.push(JSON.parse(line)));
    const ready = await eventually(async () => lines.find((l) => l.ready), 20_000);
    await eventually(async () => {
      const session = await first.database.db
        .selectFrom("relay_sessions")
        .select("connected_at")
        .where("id", "=", ready.id as string)
        .executeTakeFirst();
      return session?.connected_at ? true : undefined;
    });
    // Hangs (and the hook times out) if an open stream holds the server open.
    await third.stop();
    await eventually(async () => (stderr.includes("reconnecting") ? true : undefined));
    expect(cli.exitCode).toBeNull();
  });
});
