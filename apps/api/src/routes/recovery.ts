import { matchesEventType } from "@herald/core";
import {
  type Endpoint,
  fanoutEndpoints,
  getEndpoint,
  getOperation,
  resendEvent,
  retryDelivery,
  startRecovery,
} from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { HttpProblem } from "../problems.ts";
import { findDelivery, findEndpoint, findEvent } from "../resources.ts";
import { answers, Id, PathId, Timestamp } from "../schemas.ts";
import { DeliveryObject, deliveryView, OperationObject, operationView } from "../views.ts";

/** Off-schedule attempts would be dropped by the dispatcher for a disabled endpoint: refuse them here. */
function requireEnabled(endpoint: Endpoint, field?: string): void {
  if (!endpoint.enabled) {
    throw new HttpProblem(
      "conflict",
      `The endpoint is disabled${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ""}; enable it first.`,
      field,
    );
  }
}

const ResendBody = Type.Object(
  {
    endpoint_id: Type.Optional(
      Id("endpoint", {
        description: "Only this endpoint; by default every enabled endpoint the event matches.",
      }),
    ),
  },
  { additionalProperties: false },
);

const Resent = Type.Object({
  event_id: Type.String(),
  deliveries: Type.Array(
    Type.Object({
      delivery_id: Type.String(),
      endpoint_id: Type.String(),
      created: Type.Boolean({
        description:
          "True when the endpoint had no delivery of this event (it was added or enabled later): a new delivery, on the endpoint's retry schedule. " +
          "Otherwise the existing delivery gets one manual attempt.",
      }),
    }),
  ),
});

const RecoverBody = Type.Object(
  {
    since: Timestamp,
    until: Type.Optional({ ...Timestamp, description: "Defaults to now." }),
  },
  { additionalProperties: false },
);

/** Recovery: re-sending what failed, one delivery, one endpoint's window, or one event. */
export async function recoveryRoutes(app: HeraldApp) {
  const { db, boss, announce } = app.herald;

  app.post(
    "/v1/merchants/:mid/deliveries/:did/retry",
    {
      schema: {
        tags: ["deliveries"],
        summary: "Retry a delivery now",
        description:
          "Queues one manual attempt, runnable at once, recorded with trigger `manual`. If it succeeds the delivery becomes `succeeded`; " +
          "if it fails the delivery's status and schedule stay as they were. Any delivery may be retried, a succeeded one too; " +
          "its endpoint must be enabled (409 otherwise).",
        params: Type.Object({ mid: PathId, did: PathId }),
        response: answers({ 202: DeliveryObject }),
      },
    },
    async (request, reply) => {
      const { scope } = request;
      const delivery = await findDelivery(db, scope, request.params.did);
      const endpoint = await getEndpoint(db, scope, delivery.endpoint_id);
      if (!endpoint) throw new HttpProblem("conflict", "The delivery's endpoint was deleted.");
      requireEnabled(endpoint);
      const retried = await retryDelivery(db, boss, delivery.id, endpoint);
      announce();
      return reply.code(202).send(deliveryView(retried));
    },
  );

  app.post(
    "/v1/merchants/:mid/endpoints/:eid/recover",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Re-send an endpoint's failed deliveries",
        description:
          "Every delivery of this endpoint that is `failed` and was created in [since, until) gets one manual attempt, in the background, " +
          "behind the endpoint's fresh deliveries. Answers the operation; GET it (the `location` header) for progress.",
        params: Type.Object({ mid: PathId, eid: PathId }),
        body: RecoverBody,
        response: answers({ 202: OperationObject }),
      },
    },
    async (request, reply) => {
      const { scope } = request;
      const endpoint = await findEndpoint(db, scope, request.params.eid);
      const since = new Date(request.body.since);
      const until = request.body.until ? new Date(request.body.until) : new Date();
      if (since >= until) throw new HttpProblem("validation", "since must be before until.", "since");
      requireEnabled(endpoint);
      const id = await startRecovery(db, boss, {
        merchantId: scope.merchantId,
        mode: endpoint.mode,
        endpoint,
        since,
        until,
      });
      announce();
      const operation = await getOperation(db, scope, id);
      return reply
        .code(202)
        .header("location", `/v1/merchants/${scope.merchantId}/operations/${id}`)
        .send(operationView(operation!));
    },
  );

  app.post(
    "/v1/merchants/:mid/events/:evid/resend",
    {
      schema: {
        tags: ["events"],
        summary: "Send an event again",
        description:
          "To one endpoint (`endpoint_id`, which must be enabled and of the event's mode), or to every enabled endpoint of the event's mode " +
          "whose filter matches its type. An endpoint that already has a delivery of the event gets one manual attempt of it; " +
          "one that has none gets a new delivery. The body is the same bytes, with the same `webhook-id`.",
        params: Type.Object({ mid: PathId, evid: PathId }),
        // An empty request is fine: Fastify validates a missing body as null.
        body: Type.Union([ResendBody, Type.Null()], {
          description: "Optional: send no body to resend to every matching endpoint.",
        }),
        response: answers({ 202: Resent }),
      },
    },
    async (request, reply) => {
      const { scope } = request;
      const event = await findEvent(db, scope, request.params.evid);
      const endpointId = request.body?.endpoint_id;
      let targets: { id: string; timeout_ms: number }[];
      if (endpointId) {
        const endpoint = await getEndpoint(
          db,
          { merchantId: scope.merchantId, mode: event.mode },
          endpointId,
        );
        if (!endpoint)
          throw new HttpProblem("not_found", "No such endpoint in the event's mode.", "endpoint_id");
        requireEnabled(endpoint, "endpoint_id");
        targets = [endpoint];
      } else {
        targets = (await fanoutEndpoints(db, scope.merchantId, [event.mode])).filter((ep) =>
          matchesEventType(ep.event_types, event.type),
        );
      }
      const deliveries = await resendEvent(
        db,
        boss,
        { id: event.id, merchant_id: scope.merchantId, mode: event.mode, type: event.type },
        targets,
      );
      announce();
      return reply.code(202).send({ event_id: event.id, deliveries });
    },
  );
}
