import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";

/** Which endpoints an event gets a delivery (and a scheduled first attempt) for. */
describe("an event fans out to the enabled endpoints of its mode whose type filters match", () => {
  const scene = useHerald({ dispatcher: false });
  let merchant: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const { herald } = scene;
    // Nothing is sent: these tests are about which deliveries exist.
    merchant = await createMerchant(herald);
    const endpoints: [name: string, fields: Record<string, unknown>][] = [
      ["all_by_empty_list", { event_types: [] }],
      ["all_by_star", { event_types: ["*"] }],
      ["payment_prefix", { event_types: ["payment.*"] }],
      ["payment_intent_prefix", { event_types: ["payment.intent.*"] }],
      ["payment_succeeded", { event_types: ["payment.succeeded"] }],
      ["refund_or_invoice", { event_types: ["refund.created", "invoice.*"] }],
      ["disabled", { event_types: [], enabled: false }],
      ["deleted", { event_types: [] }],
      ["live", { event_types: ["payment.*"], mode: "live", url: "https://127.0.0.1:9/live" }],
    ];
    for (const [name, fields] of endpoints) {
      ids[name] = (
        await createEndpoint(herald, merchant, { url: `http://127.0.0.1:9/${name}`, ...fields })
      ).id;
    }
    const deleted = await herald.api("DELETE", `/v1/merchants/${merchant}/endpoints/${ids.deleted}`);
    expect(deleted.status).toBe(204);
    const other = await createMerchant(herald, "Other");
    await createEndpoint(herald, other, { url: "http://127.0.0.1:9/other", event_types: [] });
  });

  /** The names of the endpoints that got a delivery, each with exactly one attempt job. */
  async function fannedOutTo(eventId: string): Promise<string[]> {
    const { herald } = scene;
    const { rows } = await sql<{ endpoint_id: string; jobs: number }>`
      SELECT d.endpoint_id,
        (SELECT count(*) FROM pgboss.job j WHERE j.name = 'attempts' AND j.data->>'delivery_id' = d.id) AS jobs
      FROM deliveries d WHERE d.event_id = ${eventId}
    `.execute(herald.database.db);
    for (const row of rows) expect(row.jobs).toBe(1);
    const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    return rows.map((r) => names[r.endpoint_id] ?? r.endpoint_id).sort();
  }

  const cases: [mode: string, type: string, expected: string[]][] = [
    [
      "test",
      "payment.succeeded",
      ["all_by_empty_list", "all_by_star", "payment_prefix", "payment_succeeded"],
    ],
    [
      "test",
      "payment.intent.created",
      ["all_by_empty_list", "all_by_star", "payment_intent_prefix", "payment_prefix"],
    ],
    ["test", "refund.created", ["all_by_empty_list", "all_by_star", "refund_or_invoice"]],
    ["test", "invoice.paid", ["all_by_empty_list", "all_by_star", "refund_or_invoice"]],
    // A prefix filter stops at a dot: `payment.*` is not `payment*`, nor the bare `payment`.
    ["test", "payments.created", ["all_by_empty_list", "all_by_star"]],
    ["test", "payment", ["all_by_empty_list", "all_by_star"]],
    ["test", "Payment.Succeeded", ["all_by_empty_list", "all_by_star"]],
    ["live", "payment.succeeded", ["live"]],
    ["live", "refund.created", []],
  ];
  for (const [mode, type, expected] of cases) {
    it(`${mode} ${type} → ${expected.join(", ") || "no endpoint"}`, async () => {
      const { herald } = scene;
      const answer = await herald.api("POST", `/v1/merchants/${merchant}/events`, { type, mode, data: {} });
      expect(answer.status).toBe(202);
      expect(answer.body.deliveries).toBe(expected.length);
      expect(await fannedOutTo(answer.body.id)).toEqual(expected);
    });
  }

  it("disabling an endpoint stops new deliveries to it; re-enabling resumes them", async () => {
    const { herald } = scene;
    const path = `/v1/merchants/${merchant}/endpoints/${ids.payment_succeeded}`;
    const emit = () =>
      herald.api("POST", `/v1/merchants/${merchant}/events`, {
        type: "payment.succeeded",
        mode: "test",
        data: {},
      });

    expect((await herald.api("PATCH", path, { enabled: false })).status).toBe(200);
    const whileDisabled = await emit();
    expect((await herald.api("PATCH", path, { enabled: true })).status).toBe(200);
    const afterwards = await emit();

    expect(await fannedOutTo(whileDisabled.body.id)).toEqual([
      "all_by_empty_list",
      "all_by_star",
      "payment_prefix",
    ]);
    expect(await fannedOutTo(afterwards.body.id)).toEqual([
      "all_by_empty_list",
      "all_by_star",
      "payment_prefix",
      "payment_succeeded",
    ]);
  });

  it("a batch fans out each event by its own mode and type", async () => {
    const { herald } = scene;
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/events/batch`, {
      events: [
        { type: "payment.succeeded", mode: "live", data: {} },
        { type: "refund.created", mode: "test", data: {} },
        { type: "other.thing", mode: "live", data: {} },
      ],
    });
    expect(answer.status).toBe(202);
    expect(answer.body.data.map((r: { deliveries: number }) => r.deliveries)).toEqual([1, 3, 0]);
    const [live, refund, other] = answer.body.data.map((r: { id: string }) => r.id);
    expect(await fannedOutTo(live)).toEqual(["live"]);
    expect(await fannedOutTo(refund)).toEqual(["all_by_empty_list", "all_by_star", "refund_or_invoice"]);
    expect(await fannedOutTo(other)).toEqual([]);
  });

  it("an event that matches no endpoint is still stored", async () => {
    const { herald } = scene;
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type: "nobody.listens",
      mode: "live",
      data: { kept: true },
    });
    expect(answer.body.deliveries).toBe(0);
    const stored = await herald.api("GET", `/v1/merchants/${merchant}/events/${answer.body.id}`);
    expect(stored.body).toMatchObject({ id: answer.body.id, mode: "live", data: { kept: true } });
  });
});
