/**
 * Timestamps a client may give Herald (time filters, recovery windows): RFC 3339 date-times that
 * name one real instant Herald can store and compare. RFC 3339 also allows what a JavaScript Date
 * and Herald's ids cannot hold, which used to reach the database and answer 500:
 * - a leap second (`…T23:59:60Z`): Date has no such instant;
 * - instants before 1970 (year 0000 included): ids lead with the milliseconds since 1970, unsigned;
 * - instants after 9999-12-31T23:59:59.999Z: they have no four-digit-year ISO form to answer with.
 */
const dateTime =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

export const earliestTimestamp = Date.UTC(1970, 0, 1);
export const latestTimestamp = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The instant `text` names, or undefined when it is not a timestamp Herald can use. */
export function parseTimestamp(text: string): Date | undefined {
  const match = dateTime.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = Number(match[10] ?? 0);
  const offsetMinutes = Number(match[11] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const sign = match[9] === "-" ? -1 : 1;
  // Fractions beyond milliseconds are cut, not rounded: a bound never moves past what was given.
  const millis = Number((match[7] ?? ".0").slice(1, 4).padEnd(3, "0"));
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  const at = utc.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  if (at < earliestTimestamp || at > latestTimestamp) return undefined;
  return new Date(at);
}

function daysIn(year: number, month: number): number {
  // Day 0 of the next month is this month's last; setUTCFullYear keeps years below 100 as given.
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0);
  return last.getUTCDate();
}
