import { beforeAll, describe, expect, it } from "vitest";
import { createMerchant, useHerald } from "./support/fixture.ts";

interface Emitted {
  id: string;
  type: string;
  mode: string;
  created_at: string;
  data: Record<string, unknown>;
}

describe("events can be listed by type and time, page by page, and fetched one by one", () => {
  const scene = useHerald({ dispatcher: false });
  let merchant: string;
  /** Oldest first. */
  const emitted: Emitted[] = [];

  beforeAll(async () => {
    const { herald } = scene;
    merchant = await createMerchant(herald);
    const sent: [type: string, mode: string][] = [
      ["payment.succeeded", "test"],
      ["payment.failed", "test"],
      ["payment.intent.created", "test"],
      ["refund.created", "test"],
      ["payment", "test"],
      ["paymentx.created", "test"],
      ["pay_ment.a", "test"],
      ["payxment.a", "test"],
      ["payment.succeeded", "live"],
      ["payment.succeeded", "test"],
    ];
    for (const [index, [type, mode]] of sent.entries()) {
      const data = { index, zeta: "last key first", alpha: [1, { b: 2, a: 1 }] };
      const answer = await herald.api("POST", `/v1/merchants/${merchant}/events`, { type, mode, data });
      emitted.push({ id: answer.body.id, type, mode, created_at: answer.body.created_at, data });
      // Distinct milliseconds, so every time bound falls between two events.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });

  const list = (query: string, key?: string) =>
    scene.herald.api("GET", `/v1/merchants/${merchant}/events${query}`, undefined, { key });
  const newestFirst = (events: Emitted[]) => events.map((e) => e.id).reverse();
  const ids = (answer: { body: { data: { id: string }[] } }) => answer.body.data.map((e) => e.id);

  it("lists newest first, each event with its data parsed back, key order kept", async () => {
    const answer = await list("");
    expect(answer.status).toBe(200);
    expect(ids(answer)).toEqual(newestFirst(emitted));
    expect(answer.body.next_cursor).toBeNull();
    const [newest] = answer.body.data;
    const sent = emitted.at(-1)!;
    expect(newest).toEqual({
      id: sent.id,
      mode: "test",
      type: sent.type,
      created_at: sent.created_at,
      data: sent.data,
    });
    expect(JSON.stringify(newest.data)).toBe(JSON.stringify(sent.data));
  });

  it("filters by an exact type", async () => {
    const answer = await list("?type=payment.succeeded");
    expect(ids(answer)).toEqual(newestFirst(emitted.filter((e) => e.type === "payment.succeeded")));
  });

  it("filters by a prefix: `payment.*` is every type under `payment.`, and nothing else", async () => {
    const answer = await list("?type=payment.*");
    expect(answer.body.data.map((e: Emitted) => e.type)).toEqual([
      "payment.succeeded",
      "payment.succeeded",
      "payment.intent.created",
      "payment.failed",
      "payment.succeeded",
    ]);
  });

  it("a prefix is matched literally: `_` is not a wildcard", async () => {
    const answer = await list("?type=pay_ment.*");
    expect(answer.body.data.map((e: Emitted) => e.type)).toEqual(["pay_ment.a"]);
  });

  it("since is inclusive and until exclusive", async () => {
    const from = emitted[2]!.created_at;
    const to = emitted[5]!.created_at;
    const answer = await list(`?since=${from}&until=${to}`);
    expect(ids(answer)).toEqual(newestFirst(emitted.slice(2, 5)));
  });

  it("time and type filters combine", async () => {
    const answer = await list(
      `?type=payment.*&since=${emitted[1]!.created_at}&until=${emitted[9]!.created_at}`,
    );
    expect(ids(answer)).toEqual(newestFirst([emitted[1]!, emitted[2]!, emitted[8]!]));
  });

  it("walks every page with the cursor: no event twice, none missed", async () => {
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const answer = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(answer.status).toBe(200);
      pages.push(answer.body.data.length);
      seen.push(...ids(answer));
      cursor = answer.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual([3, 3, 3, 1]);
    expect(seen).toEqual(newestFirst(emitted));
  });

  it("pages through a filtered list", async () => {
    const first = await list("?type=payment.*&limit=2");
    const second = await list(`?type=payment.*&limit=2&cursor=${first.body.next_cursor}`);
    const third = await list(`?type=payment.*&limit=2&cursor=${second.body.next_cursor}`);
    const expected = newestFirst(emitted.filter((e) => e.type.startsWith("payment.")));
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(expected);
    expect(third.body.next_cursor).toBeNull();
  });

  it("gets one event by id, as a receiver re-querying it would", async () => {
    const { herald } = scene;
    const sent = emitted[3]!;
    const answer = await herald.api("GET", `/v1/merchants/${merchant}/events/${sent.id}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      id: sent.id,
      mode: "test",
      type: "refund.created",
      created_at: sent.created_at,
      data: sent.data,
    });
  });

  it("a mode-bound key sees only its mode's events", async () => {
    const { herald } = scene;
    const testKey = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body
      .key;
    const liveEvent = emitted[8]!;

    const listed = await list("", testKey);
    const fetched = await herald.api("GET", `/v1/merchants/${merchant}/events/${liveEvent.id}`, undefined, {
      key: testKey,
    });

    expect(ids(listed)).toEqual(newestFirst(emitted.filter((e) => e.mode === "test")));
    expect(fetched.status).toBe(404);
  });

  it("another merchant's events are not found, with any key", async () => {
    const { herald } = scene;
    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    const event = emitted[0]!;

    const viaOtherPath = await herald.api("GET", `/v1/merchants/${other}/events/${event.id}`);
    const withOtherKey = await herald.api("GET", `/v1/merchants/${merchant}/events/${event.id}`, undefined, {
      key: otherKey,
    });
    const listWithOtherKey = await list("", otherKey);

    for (const answer of [viaOtherPath, withOtherKey, listWithOtherKey]) {
      expect(answer.status).toBe(404);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    }
    expect((await herald.api("GET", `/v1/merchants/${other}/events`)).body.data).toEqual([]);
  });

  it("an unknown or malformed event id is 404", async () => {
    const { herald } = scene;
    for (const id of [
      "evt_01jz0000000000000000000000",
      "evt_nope",
      "dlv_01jz0000000000000000000000",
      "x".repeat(64),
    ]) {
      const answer = await herald.api("GET", `/v1/merchants/${merchant}/events/${id}`);
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ type: "urn:herald:problem:not_found", detail: "No such event." });
    }
  });

  it("refuses bad filters with a 400 naming the parameter", async () => {
    for (const [query, field] of [
      ["?type=pay*", "type"],
      ["?type=*", "type"],
      ["?type=payment.", "type"],
      ["?since=yesterday", "since"],
      ["?until=2026-13-01T00:00:00Z", "until"],
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      ["?sort=asc", "sort"],
    ]) {
      const answer = await list(query!);
      expect(answer.status, query).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body, query).toMatchObject({ type: "urn:herald:problem:validation", field });
    }
  });
});
