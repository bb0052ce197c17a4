import { listEndpointAttempts } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { findEndpoint } from "../resources.ts";
import { answers, listOf, PageQuery, PathId } from "../schemas.ts";
import { EndpointAttemptObject, endpointAttemptView } from "../views.ts";

/** The attempt log of an endpoint: every try, newest first, whatever its delivery. */
export async function attemptRoutes(app: HeraldApp) {
  const { db } = app.herald;

  app.get(
    "/v1/merchants/:mid/endpoints/:eid/attempts",
    {
      schema: {
        tags: ["endpoints"],
        summary: "List an endpoint's attempts",
        description:
          "Newest first, each with its request (URL and headers as sent, signatures included), response (body capped at 64 KiB), " +
          "duration, error class, trigger, and scheduled versus actual start. The request body is the event's: GET the delivery for it.",
        params: Type.Object({ mid: PathId, eid: PathId }),
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: answers({ 200: listOf(EndpointAttemptObject) }),
      },
    },
    async (request) => {
      const endpoint = await findEndpoint(db, request.scope, request.params.eid);
      const page = await listEndpointAttempts(db, endpoint.id, {
        limit: request.query.limit,
        cursor: request.query.cursor,
      });
      return { data: page.data.map(endpointAttemptView), next_cursor: page.next_cursor };
    },
  );
}
