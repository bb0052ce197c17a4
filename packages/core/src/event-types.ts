import { matchesEventType } from "./matching.ts";

/**
 * The group an event type is listed under in the catalog: its first dotted part, so
 * `payment.succeeded` and `payment.refund.created` both sit under `payment`.
 */
export function eventTypeGroup(name: string): string {
  const dot = name.indexOf(".");
  return dot === -1 ? name : name.slice(0, dot);
}

/** Names grouped as the catalog lists them: groups and the names in each in ascending order. */
export function groupEventTypes(names: readonly string[]): { group: string; types: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const name of [...names].sort()) {
    const group = eventTypeGroup(name);
    groups.set(group, [...(groups.get(group) ?? []), name]);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, types]) => ({ group, types }));
}

/**
 * The positions of the subscription filters that match no type of the catalog: with
 * HERALD_REQUIRE_KNOWN_TYPES such a filter can only be a typo, since no event could ever reach it.
 */
export function filtersMatchingNothing(filters: readonly string[], catalog: readonly string[]): number[] {
  return filters.flatMap((filter, index) =>
    catalog.some((name) => matchesEventType([filter], name)) ? [] : [index],
  );
}

/**
 * A JSON Pointer into an event's `data` (as a schema validator reports it) as the dotted field a
 * problem names: `/items/0/amount` under `data` is `data.items.0.amount`.
 */
export function dataField(base: string, pointer: string, property?: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
  return [base, ...parts, ...(property === undefined ? [] : [property])].join(".");
}
