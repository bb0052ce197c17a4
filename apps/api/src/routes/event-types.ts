import {
  eventTypeGroup,
  eventTypePattern,
  groupEventTypes,
  isEventType,
  maxEventTypeFilterLength,
  maxEventTypeLength,
} from "@herald/core";
import {
  createEventType,
  deleteEventType,
  type EventTypeFields,
  type EventTypeRow,
  getEventType,
  listEventTypes,
  updateEventType,
  writeEmitSettings,
} from "@herald/db";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { compileSchema, dataProblem, eventCatalog, schemaProblem } from "../catalog.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { answers, listOf, NoContent, Text, Timestamp } from "../schemas.ts";

const Name = Type.String({
  minLength: 1,
  maxLength: maxEventTypeLength,
  pattern: `^${eventTypePattern}$`,
  description: "The event type, as emitted: dotted parts of `[a-zA-Z0-9_-]`, such as `payment.succeeded`.",
});
/** Big enough for any schema a person writes; small enough that no one request makes a huge compile. */
const maxSchemaBytes = 64 * 1024;

// Any object: the serializer writes every property of it, not only those a schema names.
const AnyObject = { type: "object", additionalProperties: true };
const JsonSchema = Type.Unsafe<Record<string, unknown> | boolean | null>({
  anyOf: [AnyObject, { type: "boolean" }, { type: "null" }],
  description:
    "A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 " +
    "naming the field. Strict: unknown keywords and formats are refused. Null: any object.",
});
const Example = Type.Unsafe<Record<string, unknown> | null>({
  anyOf: [AnyObject, { type: "null" }],
  description: "An example `data`; it must satisfy the schema.",
});
const Description = Text({ maxLength: 2000 });

const EventTypeObject = Type.Object({
  name: Type.String(),
  group: Type.String({
    description: "The first dotted part of the name: `payment` for `payment.succeeded`.",
  }),
  description: Type.String(),
  schema: JsonSchema,
  example: Example,
  deprecated: Type.Boolean({
    description: "Still accepted on emit; shown so merchants stop subscribing to it.",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Fields = {
  description: Type.Optional(Description),
  schema: Type.Optional(JsonSchema),
  example: Type.Optional(Example),
  deprecated: Type.Optional(Type.Boolean()),
};

const NameParams = Type.Object({ name: Type.String({ maxLength: 200 }) });

function eventTypeView(row: EventTypeRow): Static<typeof EventTypeObject> {
  return {
    name: row.name,
    group: eventTypeGroup(row.name),
    description: row.description,
    schema: row.schema,
    example: row.example,
    deprecated: row.deprecated,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The schema and example a type will have once `fields` apply: each must be usable, together valid. */
function checkSchemaAndExample(schema: unknown, example: unknown, changed: EventTypeFields) {
  if (changed.schema !== undefined && changed.schema !== null) {
    if (Buffer.byteLength(JSON.stringify(changed.schema)) > maxSchemaBytes)
      throw new HttpProblem("validation", `schema is larger than ${maxSchemaBytes} bytes.`, "schema");
    const problem = schemaProblem(changed.schema);
    if (problem) throw new HttpProblem("validation", `schema cannot be used: ${problem}.`, "schema");
  }
  if (schema === null || schema === undefined || example === null || example === undefined) return;
  const problem = dataProblem(compileSchema(schema), example, "example");
  if (problem) {
    const detail =
      changed.example === undefined
        ? `The stored example does not satisfy the new schema: ${problem.detail}`
        : problem.detail;
    throw new HttpProblem("validation", detail, problem.field);
  }
}

const readable = (name: string) => (isEventType(name) ? name : undefined);

/**
 * Event types: the catalog of what the provider emits. The admin key writes it; every key reads it,
 * since it is what merchants choose from when they subscribe an endpoint.
 */
export async function eventTypeRoutes(app: HeraldApp) {
  const { db, config } = app.herald;
  const catalog = eventCatalog(app);

  // herald.emit (docs/outbox.md) refuses what this process refuses; a database not reachable yet
  // gets them from the next process to start.
  app.addHook("onReady", async () => {
    await writeEmitSettings(db, {
      maxDataBytes: config.maxPayloadBytes,
      requireKnownTypes: config.requireKnownTypes,
    }).catch((error) => app.log.warn({ err: error }, "could not hand herald.emit this process's settings"));
  });

  app.post(
    "/v1/event-types",
    {
      config: { adminOnly: true },
      schema: {
        tags: ["event-types"],
        summary: "Add an event type to the catalog",
        description: "Admin key only. A name already in the catalog answers 409.",
        body: Type.Object({ name: Name, ...Fields }, { additionalProperties: false }),
        response: answers({ 201: EventTypeObject }),
      },
    },
    async (request, reply) => {
      const { name, ...fields } = request.body;
      checkSchemaAndExample(fields.schema, fields.example, fields);
      const created = await createEventType(db, name, fields);
      if (!created) throw new HttpProblem("conflict", `The catalog already has ${name}.`, "name");
      catalog.changed();
      return reply.code(201).send(eventTypeView(created));
    },
  );

  app.get(
    "/v1/event-types",
    {
      schema: {
        tags: ["event-types"],
        summary: "List the catalog",
        description:
          "In name order, so each group's types come together; every key may read it. Deprecated types are left " +
          "out unless `include_deprecated=true`.",
        querystring: Type.Object(
          {
            prefix: Type.Optional(
              Type.String({
                maxLength: maxEventTypeFilterLength,
                pattern: `^${eventTypePattern}(\\.\\*)?$`,
                description: "Only the type or types under it: `payment` or `payment.*`.",
              }),
            ),
            include_deprecated: Type.Optional(Type.Boolean({ default: false })),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
            cursor: Type.Optional(
              Type.String({
                maxLength: maxEventTypeLength,
                pattern: `^${eventTypePattern}$`,
                description: "`next_cursor` of the previous page.",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: answers({ 200: listOf(EventTypeObject) }),
      },
    },
    async (request) => {
      const { prefix, include_deprecated, limit, cursor } = request.query;
      const page = await listEventTypes(
        db,
        { prefix, includeDeprecated: include_deprecated ?? false },
        { limit, cursor },
      );
      return { data: page.data.map(eventTypeView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/event-type-groups",
    {
      schema: {
        tags: ["event-types"],
        summary: "The catalog's names, grouped by prefix",
        description: "Every group (`payment`) with the names under it, for a subscription picker.",
        querystring: Type.Object(
          { include_deprecated: Type.Optional(Type.Boolean({ default: false })) },
          { additionalProperties: false },
        ),
        response: answers({
          200: Type.Object({
            data: Type.Array(Type.Object({ group: Type.String(), types: Type.Array(Type.String()) })),
          }),
        }),
      },
    },
    async (request) => {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listEventTypes(
          db,
          { includeDeprecated: request.query.include_deprecated ?? false },
          { limit: 1000, cursor },
        );
        names.push(...page.data.map((row) => row.name));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return { data: groupEventTypes(names) };
    },
  );

  app.get(
    "/v1/event-types/:name",
    {
      schema: {
        tags: ["event-types"],
        summary: "Get an event type",
        params: NameParams,
        response: answers({ 200: EventTypeObject }),
      },
    },
    async (request) => {
      const name = readable(request.params.name);
      const row = name && (await getEventType(db, name));
      if (!row) throw notFound("event type");
      return eventTypeView(row);
    },
  );

  app.patch(
    "/v1/event-types/:name",
    {
      config: { adminOnly: true },
      schema: {
        tags: ["event-types"],
        summary: "Change an event type",
        description:
          "Admin key only. Only the fields given change; `schema: null` or `example: null` removes it. A new schema " +
          "applies to emits through this process at once, through other API processes within a second. Deprecating " +
          "is `deprecated: true`.",
        params: NameParams,
        body: Type.Object(Fields, { additionalProperties: false }),
        response: answers({ 200: EventTypeObject }),
      },
    },
    async (request) => {
      const name = readable(request.params.name);
      const existing = name && (await getEventType(db, name));
      if (!existing) throw notFound("event type");
      const fields = request.body;
      checkSchemaAndExample(
        fields.schema === undefined ? existing.schema : fields.schema,
        fields.example === undefined ? existing.example : fields.example,
        fields,
      );
      const updated = await updateEventType(db, existing.name, fields);
      if (!updated) throw notFound("event type");
      catalog.changed();
      return eventTypeView(updated);
    },
  );

  app.delete(
    "/v1/event-types/:name",
    {
      config: { adminOnly: true },
      schema: {
        tags: ["event-types"],
        summary: "Remove an event type from the catalog",
        description:
          "Admin key only. Events already emitted keep their type; with HERALD_REQUIRE_KNOWN_TYPES, new emits of it " +
          "are refused. To warn merchants first, deprecate it instead.",
        params: NameParams,
        response: answers({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const name = readable(request.params.name);
      if (!name || !(await deleteEventType(db, name))) throw notFound("event type");
      catalog.changed();
      return reply.code(204).send(null);
    },
  );
}
