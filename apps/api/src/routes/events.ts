import { createHash } from "node:crypto";
import { isEventType, isId } from "@herald/core";
import { type EmitRequest, type EmitResult, emitEvents, getEvent, listEvents } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { merchantScope, requireAdmin, writeMode } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { MerchantParams, Mode, PageQuery, Timestamp } from "../schemas.ts";
import { eventView } from "../views.ts";

const EventType = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^[a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*$",
});
const EmitBody = Type.Object(
  {
    type: EventType,
    data: Type.Record(Type.String(), Type.Unknown(), {
      description: "Any JSON object; delivered exactly as sent.",
    }),
    mode: Type.Optional(Mode),
  },
  { additionalProperties: false },
);
const IdempotencyKey = Type.String({ minLength: 1, maxLength: 255 });

function emitted(result: EmitResult) {
  return { id: result.id, type: result.type, created_at: result.created_at, deliveries: result.deliveries };
}

/** Events: what a provider's services emit. Emitting stores the event and fans it out. */
export async function eventRoutes(app: HeraldApp) {
  const { db, boss } = app.herald;

  app.post(
    "/v1/merchants/:mid/events",
    {
      schema: {
        tags: ["events"],
        summary: "Emit an event",
        description:
          "Stores the event and schedules one delivery per matching enabled endpoint of its mode, in one transaction. " +
          "A repeated Idempotency-Key answers with the first event and creates nothing.",
        params: MerchantParams,
        headers: Type.Object({ "idempotency-key": Type.Optional(IdempotencyKey) }),
        body: EmitBody,
      },
    },
    async (request, reply) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const key = request.headers["idempotency-key"];
      const mode = writeMode(scope, request.body.mode, "live");
      const [result] = await emitEvents(db, boss, scope.merchantId, [
        {
          type: request.body.type,
          data: request.body.data,
          mode,
          idempotencyKey: key,
          requestHash: key ? requestHash(request.body) : undefined,
        },
      ]);
      if (result!.conflict)
        throw new HttpProblem(
          "idempotency_conflict",
          "This Idempotency-Key was used with a different request.",
          "idempotency-key",
        );
      if (result!.replayed) reply.header("idempotent-replayed", "true");
      return reply.code(202).send(emitted(result!));
    },
  );

  app.post(
    "/v1/merchants/:mid/events/batch",
    {
      schema: {
        tags: ["events"],
        summary: "Emit up to 1,000 events at once",
        description: "One transaction for the whole batch; the answer lists one result per event, in order.",
        params: MerchantParams,
        body: Type.Object(
          {
            events: Type.Array(
              Type.Object(
                { ...EmitBody.properties, idempotency_key: Type.Optional(IdempotencyKey) },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: 1000 },
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const scope = await merchantScope(request, db, request.params.mid);
      const keys = request.body.events.map((e) => e.idempotency_key).filter(Boolean);
      if (new Set(keys).size !== keys.length)
        throw new HttpProblem(
          "validation",
          "idempotency_key values must be unique within a batch.",
          "events",
        );
      const requests: EmitRequest[] = request.body.events.map((e) => ({
        type: e.type,
        data: e.data,
        mode: e.mode ?? "live",
        idempotencyKey: e.idempotency_key,
        requestHash: e.idempotency_key
          ? requestHash({ type: e.type, data: e.data, mode: e.mode })
          : undefined,
      }));
      const results = await emitEvents(db, boss, scope.merchantId, requests);
      return reply.code(202).send({
        data: results.map((r) =>
          r.conflict
            ? {
                error: new HttpProblem(
                  "idempotency_conflict",
                  "idempotency_key was used with a different request.",
                ).problem,
              }
            : emitted(r),
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
        params: MerchantParams,
        querystring: Type.Object(
          {
            ...PageQuery,
            type: Type.Optional(
              Type.String({ maxLength: 130, description: "An exact type or a prefix such as `payment.*`." }),
            ),
            since: Type.Optional(Timestamp),
            until: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const { type, since, until, limit, cursor } = request.query;
      if (type !== undefined && !isEventType(type.endsWith(".*") ? type.slice(0, -2) : type)) {
        throw new HttpProblem("validation", "type must be an event type or a prefix ending in .*", "type");
      }
      const page = await listEvents(
        db,
        {
          merchantId: scope.merchantId,
          mode: scope.mode,
          type,
          since: since ? new Date(since) : undefined,
          until: until ? new Date(until) : undefined,
        },
        { limit: limit ?? 20, cursor },
      );
      return { data: page.data.map(eventView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid/events/:evid",
    {
      schema: {
        tags: ["events"],
        summary: "Get an event",
        description: "So a receiver can re-query what it was sent.",
        params: Type.Object({ mid: Type.String({ maxLength: 64 }), evid: Type.String({ maxLength: 64 }) }),
      },
    },
    async (request) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const event = isId("event", request.params.evid)
        ? await getEvent(db, { merchantId: scope.merchantId, mode: scope.mode }, request.params.evid)
        : undefined;
      if (!event) throw notFound("event");
      return eventView(event);
    },
  );
}

function requestHash(body: unknown): Buffer {
  return createHash("sha256").update(JSON.stringify(body)).digest();
}
