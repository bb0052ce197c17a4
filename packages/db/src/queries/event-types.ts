import { sql } from "kysely";
import type { Db } from "../connect.ts";

/** One catalogued event type, as the API shows it. */
export interface EventTypeRow {
  name: string;
  description: string;
  schema: Record<string, unknown> | boolean | null;
  example: Record<string, unknown> | null;
  deprecated: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface EventTypeFields {
  description?: string | undefined;
  schema?: unknown;
  example?: unknown;
  deprecated?: boolean | undefined;
}

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));

/** Adds a type to the catalog; undefined when the name is taken. */
export async function createEventType(
  db: Db,
  name: string,
  fields: EventTypeFields,
): Promise<EventTypeRow | undefined> {
  return (await db
    .insertInto("event_types")
    .values({
      name,
      description: fields.description ?? "",
      schema: fields.schema === undefined ? null : json(fields.schema),
      example: fields.example === undefined ? null : json(fields.example),
      deprecated: fields.deprecated ?? false,
    })
    .onConflict((oc) => oc.column("name").doNothing())
    .returningAll()
    .executeTakeFirst()) as EventTypeRow | undefined;
}

/**
 * Changes the fields given (a null schema or example removes it). `updated_at` moves on every change:
 * each API process compares it with the one its compiled schema came from.
 */
export async function updateEventType(
  db: Db,
  name: string,
  fields: EventTypeFields,
): Promise<EventTypeRow | undefined> {
  return (await db
    .updateTable("event_types")
    .set({
      ...(fields.description !== undefined && { description: fields.description }),
      ...(fields.schema !== undefined && { schema: json(fields.schema) }),
      ...(fields.example !== undefined && { example: json(fields.example) }),
      ...(fields.deprecated !== undefined && { deprecated: fields.deprecated }),
      // Strictly later than before even within one clock tick, so no cache keeps an old schema.
      updated_at: sql<Date>`greatest(clock_timestamp(), updated_at + interval '1 microsecond')`,
    })
    .where("name", "=", name)
    .returningAll()
    .executeTakeFirst()) as EventTypeRow | undefined;
}

export async function deleteEventType(db: Db, name: string): Promise<boolean> {
  const result = await db.deleteFrom("event_types").where("name", "=", name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function getEventType(db: Db, name: string): Promise<EventTypeRow | undefined> {
  return (await db.selectFrom("event_types").selectAll().where("name", "=", name).executeTakeFirst()) as
    | EventTypeRow
    | undefined;
}

export interface EventTypeFilter {
  /** A group (`payment`) or a prefix wildcard (`payment.*`): the types under it. */
  prefix?: string | undefined;
  includeDeprecated: boolean;
}

/**
 * The catalog in name order, so that each group's types come together; `cursor` is the last name of
 * the previous page.
 */
export async function listEventTypes(
  db: Db,
  filter: EventTypeFilter,
  request: { limit: number; cursor?: string | undefined },
): Promise<{ data: EventTypeRow[]; next_cursor: string | null }> {
  let query = db
    .selectFrom("event_types")
    .selectAll()
    .orderBy("name")
    .limit(request.limit + 1);
  if (filter.prefix !== undefined) {
    const prefix = filter.prefix.replace(/\.\*$/, "");
    const like = `${prefix.replace(/[\\%_]/g, "\\$&")}.%`;
    query = query.where((eb) => eb.or([eb("name", "=", prefix), eb("name", "like", like)]));
  }
  if (!filter.includeDeprecated) query = query.where("deprecated", "=", false);
  if (request.cursor !== undefined) query = query.where("name", ">", request.cursor);
  const rows = (await query.execute()) as EventTypeRow[];
  const more = rows.length > request.limit;
  const data = more ? rows.slice(0, request.limit) : rows;
  return { data, next_cursor: more ? (data.at(-1)?.name ?? null) : null };
}

/** Every type with what emitting needs to know of it: the catalog's cache loads this. */
export function catalogSnapshot(db: Db) {
  return db.selectFrom("event_types").select(["name", "schema", "updated_at"]).execute();
}

/**
 * Hands herald.emit the settings only the API's environment knows, so an emit from SQL is refused
 * exactly where POST …/events is. Every API process writes them when it starts.
 */
export async function writeEmitSettings(
  db: Db,
  settings: { maxDataBytes: number; requireKnownTypes: boolean },
): Promise<void> {
  await db
    .updateTable("herald.settings")
    .set({ max_data_bytes: settings.maxDataBytes, require_known_types: settings.requireKnownTypes })
    .execute();
}
