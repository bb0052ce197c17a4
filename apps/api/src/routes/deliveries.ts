import { isId } from "@herald/core";
import { getDelivery, getEvent, listAttempts, listDeliveries } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { merchantScope } from "../auth.ts";
import { notFound } from "../problems.ts";
import { MerchantParams, PageQuery, Timestamp } from "../schemas.ts";
import { attemptView, deliveryView } from "../views.ts";

const Status = Type.Union(["pending", "succeeded", "failed", "cancelled"].map((s) => Type.Literal(s)));

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
            endpoint_id: Type.Optional(Type.String({ maxLength: 64 })),
            event_id: Type.Optional(Type.String({ maxLength: 64 })),
            event_type: Type.Optional(Type.String({ maxLength: 128 })),
            status: Type.Optional(Status),
            since: Type.Optional(Timestamp),
            until: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const q = request.query;
      const page = await listDeliveries(
        db,
        {
          merchantId: scope.merchantId,
          mode: scope.mode,
          endpointId: q.endpoint_id,
          eventId: q.event_id,
          eventType: q.event_type,
          status: q.status as never,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
        },
        { limit: q.limit ?? 20, cursor: q.cursor },
      );
      return { data: page.data.map(deliveryView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid/deliveries/:did",
    {
      schema: {
        tags: ["deliveries"],
        summary: "Get a delivery with its attempts",
        params: Type.Object({ mid: Type.String({ maxLength: 64 }), did: Type.String({ maxLength: 64 }) }),
      },
    },
    async (request) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const filter = { merchantId: scope.merchantId, mode: scope.mode };
      const delivery = isId("delivery", request.params.did)
        ? await getDelivery(db, filter, request.params.did)
        : undefined;
      if (!delivery) throw notFound("delivery");
      const [attempts, event] = await Promise.all([
        listAttempts(db, delivery.id),
        getEvent(db, filter, delivery.event_id),
      ]);
      return { ...deliveryView(delivery), attempts: attempts.map((a) => attemptView(a, event?.body ?? "")) };
    },
  );
}
