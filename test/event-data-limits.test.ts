import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { createMerchant, useHerald } from "./support/fixture.ts";

const nested = (levels: number) => `${"[".repeat(levels - 1)}{"leaf":1}${"]".repeat(levels - 1)}`;

describe("event data is refused with 400 when it could not be delivered as sent", () => {
  const scene = useHerald({ dispatcher: false });
  let merchant: string;
  beforeAll(async () => {
    merchant = await createMerchant(scene.herald);
  });

  const emit = (raw: string) => scene.herald.api("POST", `/v1/merchants/${merchant}/events`, raw);
  const batch = (raw: string) => scene.herald.api("POST", `/v1/merchants/${merchant}/events/batch`, raw);

  function expectProblem(answer: { status: number; headers: Headers; body: unknown }, field: string) {
    expect(answer.status).toBe(400);
    expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: "urn:herald:problem:validation", status: 400, field });
  }

  async function storedBody(id: string): Promise<string> {
    const { rows } = await sql<{ body: string }>`SELECT body FROM events WHERE id = ${id}`.execute(
      scene.herald.database.db,
    );
    return rows[0]!.body;
  }

  async function eventCount(): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM events WHERE merchant_id = ${merchant}
    `.execute(scene.herald.database.db);
    return rows[0]!.n;
  }

  it("data nested 20,000 levels deep answers 400 naming data, single and batch, and stores nothing", async () => {
    const before = await eventCount();
    const deep = `{"x":${nested(20_000)}}`;

    expectProblem(await emit(`{"type":"a.b","data":${deep}}`), "data");
    expectProblem(
      await batch(`{"events":[{"type":"a.b","data":{}},{"type":"a.b","data":${deep}}]}`),
      "events.1.data",
    );
    expect(await eventCount()).toBe(before);
  });

  it("400 levels are accepted and stored exactly; 401 are refused", async () => {
    const atLimit = nested(399);
    const ok = await emit(`{"type":"a.b","data":{"x":${atLimit}}}`);
    expect(ok.status).toBe(202);
    expect(await storedBody(ok.body.id)).toContain(`"data":{"x":${atLimit}}`);

    expectProblem(await emit(`{"type":"a.b","data":{"x":${nested(400)}}}`), "data");
  });

  it("numbers beyond a double's range or precision answer 400 naming their path", async () => {
    const before = await eventCount();
    for (const [data, field] of [
      ['{"amount":1e400}', "data.amount"],
      ['{"amount":-1e400}', "data.amount"],
      ['{"tiny":1e-400}', "data.tiny"],
      ['{"order":{"ids":[1,2,12345678901234567890]}}', "data.order.ids.2"],
      ['{"id":9007199254740993}', "data.id"],
      ['{"p":0.1000000000000000000000001}', "data.p"],
    ] as const) {
      expectProblem(await emit(`{"type":"a.b","data":${data}}`), field);
      expectProblem(
        await batch(`{"events":[{"type":"a.b","data":{"fine":1}},{"type":"a.b","data":${data}}]}`),
        `events.1.${field}`,
      );
    }
    expect(await eventCount()).toBe(before);
  });

  it("numbers a double carries are accepted and stored as the same value", async () => {
    const answer = await emit(
      '{"type":"a.b","data":{"a":9007199254740992,"b":0.1,"c":1.5e300,"d":-0,"e":1.0,"f":"12345678901234567890","g":100000000000000000000}}',
    );

    expect(answer.status).toBe(202);
    expect(await storedBody(answer.body.id)).toContain(
      '"data":{"a":9007199254740992,"b":0.1,"c":1.5e+300,"d":0,"e":1,"f":"12345678901234567890","g":100000000000000000000}',
    );
  });

  it("prototype poisoning is still refused, as Fastify's own parser does", async () => {
    const answer = await emit('{"type":"a.b","data":{"__proto__":{"admin":true}}}');
    expect(answer.status).toBe(400);
    expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});
