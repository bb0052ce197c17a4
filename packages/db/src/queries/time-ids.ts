import { type IdKind, newId } from "@herald/core";

/**
 * A bound that sorts before every id of `kind` made at or after `at`, and after every id made
 * earlier. Ids lead with their millisecond timestamp (the first 10 characters after the prefix), so a
 * time window becomes a range on an index ending in `id`, which Postgres walks without touching
 * rows outside the window.
 */
export function firstIdAt(kind: IdKind, at: Date): string {
  const id = newId(kind, at.getTime());
  return id.slice(0, id.indexOf("_") + 11);
}
