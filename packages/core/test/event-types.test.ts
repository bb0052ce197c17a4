import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dataField, eventTypeGroup, filtersMatchingNothing, groupEventTypes } from "../src/event-types.ts";
import { matchesEventType } from "../src/matching.ts";

describe("the event-type catalog's rules", () => {
  it("groups types by their first dotted part, in name order", () => {
    expect(
      groupEventTypes(["refund.created", "payment.succeeded", "ping", "payment.failed", "payment.refund.x"]),
    ).toEqual([
      { group: "payment", types: ["payment.failed", "payment.refund.x", "payment.succeeded"] },
      { group: "ping", types: ["ping"] },
      { group: "refund", types: ["refund.created"] },
    ]);
    expect(eventTypeGroup("a.b.c")).toBe("a");
    expect(eventTypeGroup("solo")).toBe("solo");
  });

  it("finds the filters that no catalogued type could ever match", () => {
    const catalog = ["payment.succeeded", "payment.failed", "refund.created"];
    expect(filtersMatchingNothing(["*", "payment.*", "refund.created"], catalog)).toEqual([]);
    expect(filtersMatchingNothing(["payment.succeded", "payment.*", "payout.*", "refund"], catalog)).toEqual([
      0, 2, 3,
    ]);
    expect(filtersMatchingNothing(["*"], [])).toEqual([0]);
  });

  it("a filter is refused exactly when matchesEventType would never deliver a catalogued type to it", () => {
    const name = fc.stringMatching(/^[a-c]{1,2}(\.[a-c]{1,2}){0,2}$/);
    const filter = fc.oneof(
      name,
      name.map((n) => `${n}.*`),
      fc.constant("*"),
    );
    fc.assert(
      fc.property(
        fc.array(filter, { maxLength: 5 }),
        fc.array(name, { maxLength: 6 }),
        (filters, catalog) => {
          const refused = new Set(filtersMatchingNothing(filters, catalog));
          filters.forEach((f, i) => {
            expect(refused.has(i)).toBe(!catalog.some((type) => matchesEventType([f], type)));
          });
        },
      ),
    );
  });

  it("names the field of a schema failure inside data, unescaping JSON Pointer", () => {
    expect(dataField("data", "")).toBe("data");
    expect(dataField("data", "/amount")).toBe("data.amount");
    expect(dataField("events.3.data", "/items/0", "sku")).toBe("events.3.data.items.0.sku");
    expect(dataField("data", "/a~1b/c~0d")).toBe("data.a/b.c~d");
  });
});
