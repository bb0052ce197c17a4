import { eventTypePattern, maxEventTypeFilterLength, maxEventTypeLength } from "@herald/core";
import { type EmitRequest, type EmitResult, GroupCommit, listEvents } from "@herald/db";
import { Counter } from "prom-client";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { writeMode } from "../auth.ts";
import { checkAgainstCatalog } from "../catalog.ts";
import { checkDataDepth, exactNumbersJsonParser, maxDataDepth } from "../event-data.ts";
import { HttpProblem } from "../problems.ts";
import { findEvent } from "../resources.ts";
import { answers, listOf, MerchantParams, Mode, PageQuery, PathId, Timestamp } from "../schemas.ts";
import { eventView } from "../views.ts";

const eventsEmitted = new Counter({
  name: "herald_events_emitted_total",
  help: "Events stored by emit and batch emit; idempotent replays store nothing and are not counted",
});

/** The most events one batch request may carry. */
const maxBatchEvents = 1000;
/**
 * The body limit of a batch request. Each event's `data` still has HERALD_MAX_PAYLOAD_BYTES to
 * itself; the batch as a whole gets 16 MiB, so a full batch of typical events (a few KiB each) fits
 * while one request cannot make the API parse an unbounded document.
 */
const batchBodyLimit = 16 * 1024 * 1024;

const EventType = Type.String({
  minLength: 1,
  maxLength: maxEventTypeLength,
  pattern: `^${eventTypePattern}$`,
  description: "Dotted name of `[a-zA-Z0-9_-]` parts, such as `payment.succeeded`.",
});
const EventData = Type.Record(Type.String(), Type.Unknown(), {
  description:
    `Any JSON object, nested at most ${maxDataDepth} levels; delivered exactly as sent, key order kept. ` +
    "A number whose delivered text would denote another value (`1e400` becomes `null`, most integers beyond " +
    "2^53 come out with other digits) is refused with 400 naming its path: send such values as strings.",
});
const IdempotencyKey = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: "^[\\x20-\\x7e]+$",
  description:
    "Printable ASCII, unique per merchant and mode for as long as the event is kept (the retention period, " +
    "30 days by default): live and test emits never share keys. A repeat answers with the first event and " +
    "creates nothing; a repeat with another type or data answers 409.",
});

const EmitBody = Type.Object(
  {
    type: EventType,
    data: EventData,
    mode: Type.Optional(Mode),
  },
  { additionalProperties: false },
);

const Emitted = Type.Object({
  id: Type.String(),
  type: Type.String(),
  created_at: Timestamp,
  deliveries: Type.Integer({ description: "How many endpoints the event fans out to." }),
});

const BatchResult = Type.Union([
  Type.Object({
    ...Emitted.properties,
    replayed: Type.Boolean({ description: "The idempotency key was used before: this is the first event." }),
  }),
  Type.Object(
    { error: Type.Ref("Problem") },
    { description: "This event was refused; the others are unaffected." },
  ),
]);

const EventObject = Type.Object({
  id: Type.String(),
  mode: Mode,
  type: Type.String(),
  created_at: Timestamp,
  data: EventData,
});

type EventObject = Static<typeof EventObject>;
// The stored body is always an envelope emit built from a JSON object, of a mode the table checks.
const eventObject = (row: Parameters<typeof eventView>[0]) => eventView(row) as EventObject;

const EventParams = Type.Object({ mid: PathId, evid: PathId });

function emitted(result: EmitResult) {
  return { id: result.id, type: result.type, created_at: result.created_at, deliveries: result.deliveries };
}

const conflict = (field: string) =>
  new HttpProblem(
    "idempotency_conflict",
    "This idempotency key was used with a different type, mode or data.",
    field,
  );

/** Events: what a provider's services emit. Emitting stores the event and fans it out. */
export async function eventRoutes(app: HeraldApp) {
  const { db, hotDb, boss, config, announce } = app.herald;
  exactNumbersJsonParser(app);
  // Concurrent emits share transactions; each is still answered after its own rows commit.
  const ingest = new GroupCommit(hotDb, boss);

  app.post(
    "/v1/merchants/:mid/events",
    {
      schema: {
        tags: ["events"],
        summary: "Emit an event",
        description:
          "Stores the event and schedules one delivery per matching enabled endpoint of its mode, in one " +
          "transaction. `mode` defaults to the key's mode, or `live` with the admin key. A repeated " +
          "Idempotency-Key answers 202 with the first event and the header `idempotent-replayed: true`, and " +
          "creates nothing. The body may be at most HERALD_MAX_PAYLOAD_BYTES (256 KiB by default).",
        params: MerchantParams,
        headers: Type.Object({ "idempotency-key": Type.Optional(IdempotencyKey) }),
        body: EmitBody,
        response: answers({ 202: Emitted }),
      },
    },
    async (request, reply) => {
      checkDataDepth(request.body.data, "data");
      await checkAgainstCatalog(app, [request.body]);
      const [result] = await ingest.emit({
        merchantId: request.scope.merchantId,
        requests: [
          {
            type: request.body.type,
            data: request.body.data,
            mode: writeMode(request.scope, request.body.mode, "live"),
            idempotencyKey: request.headers["idempotency-key"],
          },
        ],
      });
      if (result!.conflict) throw conflict("idempotency-key");
      if (result!.replayed) reply.header("idempotent-replayed", "true");
      else eventsEmitted.inc();
      if (!result!.replayed && result!.deliveries > 0) announce();
      return reply.code(202).send(emitted(result!));
    },
  );

  app.post(
    "/v1/merchants/:mid/events/batch",
    {
      bodyLimit: batchBodyLimit,
      // Refused before a byte of the (up to 16 MiB) body is read.
      config: { adminOnly: true },
      schema: {
        tags: ["events"],
        summary: `Emit up to ${maxBatchEvents} events at once`,
        description:
          "Admin key only. One transaction for the whole batch; the answer lists one result per event, in order. " +
          "An `idempotency_key` already used in the event's mode (earlier, or by a previous event of the same batch) " +
          "answers with the first event and `replayed: true`, or, with another type or data, a 409 problem for that " +
          "event alone. " +
          `The body may be at most ${batchBodyLimit / 1024 / 1024} MiB, and each event's data at most ` +
          "HERALD_MAX_PAYLOAD_BYTES (256 KiB by default).",
        params: MerchantParams,
        body: Type.Object(
          {
            events: Type.Array(
              Type.Object(
                { ...EmitBody.properties, idempotency_key: Type.Optional(IdempotencyKey) },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: maxBatchEvents },
            ),
          },
          { additionalProperties: false },
        ),
        response: answers({ 202: Type.Object({ data: Type.Array(BatchResult) }) }),
      },
    },
    async (request, reply) => {
      const requests = request.body.events.map((event, index): EmitRequest => {
        checkDataDepth(event.data, `events.${index}.data`);
        if (Buffer.byteLength(JSON.stringify(event.data)) > config.maxPayloadBytes) {
          throw new HttpProblem(
            "payload_too_large",
            `events.${index}.data is larger than ${config.maxPayloadBytes} bytes.`,
            `events.${index}.data`,
          );
        }
        return {
          type: event.type,
          data: event.data,
          mode: writeMode(request.scope, event.mode, "live"),
          idempotencyKey: event.idempotency_key,
        };
      });
      await checkAgainstCatalog(app, request.body.events, (index) => `events.${index}.`);
      const results = await ingest.emit({ merchantId: request.scope.merchantId, requests });
      const stored = results.filter((r) => !r.replayed);
      eventsEmitted.inc(stored.length);
      if (stored.some((r) => r.deliveries > 0)) announce();
      return reply.code(202).send({
        data: results.map((result, index) =>
          result.conflict
            ? { error: conflict(`events.${index}.idempotency_key`).problem }
            : { ...emitted(result), replayed: result.replayed },
        ),
      });
    },
  );

  app.get(
    "/v1/merchants/:mid/events",
    {
      schema: {
        tags: ["events"],
        summary: "List events",
        description: "Newest first. `since` is inclusive, `until` exclusive.",
        params: MerchantParams,
        querystring: Type.Object(
          {
            ...PageQuery,
            type: Type.Optional(
              Type.String({
                maxLength: maxEventTypeFilterLength,
                pattern: `^${eventTypePattern}(\\.\\*)?$`,
                description: "An exact type, or a prefix such as `payment.*`.",
              }),
            ),
            since: Type.Optional(Timestamp),
            until: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
        response: answers({ 200: listOf(EventObject) }),
      },
    },
    async (request) => {
      const { type, since, until, limit, cursor } = request.query;
      const page = await listEvents(
        db,
        {
          merchantId: request.scope.merchantId,
          mode: request.scope.mode,
          type,
          since: since ? new Date(since) : undefined,
          until: until ? new Date(until) : undefined,
        },
        { limit, cursor },
      );
      return { data: page.data.map(eventObject), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid/events/:evid",
    {
      schema: {
        tags: ["events"],
        summary: "Get an event",
        description: "So a receiver can re-query what it was sent.",
        params: EventParams,
        response: answers({ 200: EventObject }),
      },
    },
    async (request) => {
      const { evid } = request.params;
      const event = await findEvent(db, request.scope, evid);
      return eventObject(event);
    },
  );
}
