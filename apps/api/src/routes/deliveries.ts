import { deliveryStatuses, maxEventTypeLength } from "@herald/core";
import {
  type Delivery,
  fifoHeadsOf,
  getEvent,
  listAttempts,
  listDeliveries,
  waitingBehind,
} from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { findDelivery } from "../resources.ts";
import {
  answers,
  Id,
  listOf,
  MerchantParams,
  OneOf,
  PageQuery,
  PathId,
  Text,
  Timestamp,
} from "../schemas.ts";
import { AttemptObject, attemptView, DeliveryObject, deliveryView } from "../views.ts";

/** Deliveries: one event to one endpoint, with every attempt made. */
export async function deliveryRoutes(app: HeraldApp) {
  const { db } = app.herald;

  app.get(
    "/v1/merchants/:mid/deliveries",
    {
      schema: {
        tags: ["deliveries"],
        summary: "List deliveries",
        params: MerchantParams,
        querystring: Type.Object(
          {
            ...PageQuery,
            endpoint_id: Type.Optional(Id("endpoint")),
            event_id: Type.Optional(Id("event")),
            event_type: Type.Optional(Text({ maxLength: maxEventTypeLength })),
            status: Type.Optional(OneOf(deliveryStatuses)),
            since: Type.Optional(Timestamp),
            until: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
        response: answers({ 200: listOf(DeliveryObject) }),
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listDeliveries(
        db,
        {
          ...request.scope,
          endpointId: q.endpoint_id,
          eventId: q.event_id,
          eventType: q.event_type,
          status: q.status,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
        },
        { limit: q.limit, cursor: q.cursor },
      );
      const heads = await fifoHeadsOf(db, page.data);
      return { data: page.data.map((d) => withWaiting(d, heads)), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid/deliveries/:did",
    {
      schema: {
        tags: ["deliveries"],
        summary: "Get a delivery with its attempts",
        params: Type.Object({ mid: PathId, did: PathId }),
        response: answers({
          200: Type.Object({ ...DeliveryObject.properties, attempts: Type.Array(AttemptObject) }),
        }),
      },
    },
    async (request) => {
      const { did } = request.params;
      const delivery = await findDelivery(db, request.scope, did);
      const [attempts, event] = await Promise.all([
        listAttempts(db, delivery.id),
        getEvent(db, request.scope, delivery.event_id),
      ]);
      const heads = await fifoHeadsOf(db, [delivery]);
      return {
        ...withWaiting(delivery, heads),
        attempts: attempts.map((a) => attemptView(a, event?.body ?? "")),
      };
    },
  );
}

/** The delivery's view, saying which delivery it waits behind when its endpoint is FIFO. */
function withWaiting(delivery: Delivery, heads: Map<string, string>) {
  const behind = waitingBehind(delivery, heads);
  return { ...deliveryView(delivery), ...(behind && { waiting_behind: behind }) };
}
