/**
 * Whether an endpoint subscribed to `filters` wants an event of `type`. An empty list means every
 * type; an entry may be an exact type, `*`, or a prefix wildcard such as `payment.*`.
 */
export function matchesEventType(filters: readonly string[], type: string): boolean {
  if (filters.length === 0) return true;
  return filters.some((filter) => {
    if (filter === "*" || filter === type) return true;
    return filter.endsWith(".*") && type.startsWith(filter.slice(0, -1));
  });
}

/** Event types are dotted names of `[a-zA-Z0-9_-]`, at most 128 characters; the API's schemas say so too. */
export const eventTypePattern = "[a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*";
export const maxEventTypeLength = 128;
/** A type followed by `.*`. */
export const maxEventTypeFilterLength = maxEventTypeLength + 2;

const eventType = new RegExp(`^${eventTypePattern}$`);

export function isEventType(type: string): boolean {
  return type.length <= maxEventTypeLength && eventType.test(type);
}

/** A subscription filter: an event type, `*`, or an event type prefix followed by `.*`. */
export function isEventTypeFilter(filter: string): boolean {
  if (filter === "*") return true;
  return isEventType(filter.endsWith(".*") ? filter.slice(0, -2) : filter);
}
