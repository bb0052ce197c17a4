import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { settledJobIds } from "@herald/db";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  deliveryOf,
  emit,
  eventually,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

/** A loopback HTTP server answering every request 200 with exactly `body` and `headers`. */
async function answering(
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/octet-stream", ...headers }).end(body),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("a receiver's answer can never stop recording", () => {
  const scene = useHerald();

  it("stores a body with NUL, invalid UTF-8 or binary as its exact bytes (base64), and plain text as text", async () => {
    const { herald } = scene;
    const bodies = {
      nul: Buffer.from("ok\u0000then more", "latin1"),
      invalid: Buffer.from([0x6f, 0x6b, 0xc3, 0x28, 0xff, 0xfe]),
      utf16: Buffer.from("\ufeffok", "utf16le"),
      gzip: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]),
      text: Buffer.from("plain text, ünïcödé ✓", "utf8"),
    };
    const merchant = await createMerchant(herald);
    const servers = [];
    const events: [keyof typeof bodies, string][] = [];
    for (const [name, body] of Object.entries(bodies) as [keyof typeof bodies, Buffer][]) {
      const server = await answering(body, { "x-odd": "caf\u00e9 \u00ff" });
      servers.push(server);
      const endpoint = await createEndpoint(herald, merchant, {
        url: server.url,
        event_types: [`t.${name}`],
      });
      expect(endpoint.id).toBeTruthy();
      events.push([name, await emit(herald, merchant, { type: `t.${name}` })]);
    }
    for (const [name, eventId] of events) {
      const { delivery, attempts } = await settledDelivery(herald, eventId);
      expect(delivery.status).toBe("succeeded");
      const [attempt] = attempts;
      const stored =
        attempt!.response_body_encoding === "base64"
          ? Buffer.from(attempt!.response_body!, "base64")
          : Buffer.from(attempt!.response_body!, "utf8");
      expect(stored.equals(bodies[name]), name).toBe(true);
      expect(attempt!.response_body_encoding).toBe(name === "text" ? "utf8" : "base64");
      // The API says how to read it.
      const view = await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${delivery.id}`);
      expect(view.status).toBe(200);
      expect(view.body.attempts[0]).toMatchObject({
        response_body: attempt!.response_body,
        response_body_encoding: attempt!.response_body_encoding,
        response_headers: expect.objectContaining({ "x-odd": "caf\u00e9 \u00ff" }),
      });
    }
    await Promise.all(servers.map((s) => s.close()));
  });

  it("a batch the database refuses is split: the one bad record is kept as unrecordable, the others as sent", async () => {
    const { herald } = scene;
    // Something the database refuses that the dispatcher cannot foresee: here a constraint made for
    // this test; in life a limit, a trigger, an encoding it did not expect.
    await sql`ALTER TABLE attempts ADD CONSTRAINT poison_for_test CHECK (response_body IS NULL OR response_body NOT LIKE '%POISON%')`.execute(
      herald.database.db,
    );
    try {
      const merchant = await createMerchant(herald, "Split");
      const poison = await answering(Buffer.from("this is POISON"));
      const fine = await answering(Buffer.from("fine"));
      await createEndpoint(herald, merchant, { url: poison.url, event_types: ["t.poison"] });
      await createEndpoint(herald, merchant, { url: fine.url, event_types: ["t.fine"] });
      // One batch emit: the attempts finish together and are recorded in the same batch.
      const types = ["t.fine", "t.fine", "t.fine", "t.fine", "t.fine", "t.fine", "t.poison"];
      types.push(...types.slice(0, 6));
      const batch = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
        events: types.map((type) => ({ type, mode: "test", data: {} })),
      });
      expect(batch.status).toBeLessThan(300);
      const ids: string[] = batch.body.data.map((e: { id: string }) => e.id);
      const poisoned = ids[6]!;
      const fineEvents = ids.filter((_, i) => i !== 6);
      for (const eventId of fineEvents) {
        const { delivery, attempts } = await settledDelivery(herald, eventId);
        expect(delivery.status).toBe("succeeded");
        expect(attempts[0]).toMatchObject({ response_body: "fine", error: null });
      }
      const { delivery, attempts } = await eventually(async () => {
        const found = await deliveryOf(herald, poisoned);
        return found.attempts.length > 0 ? found : undefined;
      });
      expect(attempts[0]).toMatchObject({ error: "unrecordable", response_body: null, response_status: 200 });
      expect(attempts[0]!.error_detail).toContain("poison_for_test");
      // Judged on what the receiver answered (200), so the delivery still succeeded.
      expect(delivery.status).toBe("succeeded");
      await poison.close();
      await fine.close();
    } finally {
      await sql`ALTER TABLE attempts DROP CONSTRAINT poison_for_test`.execute(herald.database.db);
    }
  });

  it("the settled check is strict: a complete() answer without the settled ids is refused, not guessed", () => {
    expect(settledJobIds({ jobs: ["a", "b"], requested: 2, affected: 1, settled: ["a"] })).toEqual(["a"]);
    expect(() => settledJobIds({ jobs: ["a"], requested: 1, affected: 1 })).toThrow(/settled/);
    expect(() => settledJobIds({ jobs: ["a"], requested: 1, affected: 1, settled: [] })).toThrow(/settled/);
    expect(() => settledJobIds(undefined)).toThrow();
  });
});
