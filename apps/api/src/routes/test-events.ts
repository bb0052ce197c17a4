import { isEventType, maxEventTypeLength } from "@herald/core";
import { listAttempts, sendTestEvent } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { AttemptWaiters } from "../attempt-waiters.ts";
import { HttpProblem } from "../problems.ts";
import { findEndpoint } from "../resources.ts";
import { answers, PathId } from "../schemas.ts";
import { AttemptObject, attemptView } from "../views.ts";

const testEventType = "herald.test";

const TestBody = Type.Object(
  {
    type: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: maxEventTypeLength,
        description: `The event type to send; \`${testEventType}\` by default.`,
      }),
    ),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The event's data, such as a sample of that type; a short test message by default.",
      }),
    ),
  },
  { additionalProperties: false },
);

const TestResult = Type.Object({
  event_id: Type.String(),
  delivery_id: Type.String(),
  attempt: Type.Union([AttemptObject, Type.Null()], {
    description:
      "The attempt, once made; null (with status 202) when none was made in time: GET the delivery later.",
  }),
});

// Beyond the endpoint's own timeout: time for a dispatcher to pick the job up and record it.
const pickupAllowanceMs = 5000;

/** Test events: the "send test webhook" button, answered with what the endpoint said. */
export async function testEventRoutes(app: HeraldApp) {
  const { db, boss, announce, pool } = app.herald;
  // One LISTEN connection for every waiting call of this process, woken when an attempt is recorded.
  const waiters = new AttemptWaiters(pool);
  app.addHook("onClose", () => waiters.close());

  app.post(
    "/v1/merchants/:mid/endpoints/:eid/test",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Send a test event to this endpoint now",
        description:
          `Stores an event (\`${testEventType}\` unless \`type\` is given) in the endpoint's mode and delivers it to this endpoint only, ` +
          "signed like any other, even when the endpoint is disabled. Its single attempt has trigger `test`; the delivery ends " +
          "`succeeded` or `failed` with it, never retried. Answers 200 with the attempt once it is made (the endpoint's timeout plus " +
          "a few seconds at most), else 202 with `attempt: null` (at once when this API process already has many test calls waiting).",
        params: Type.Object({ mid: PathId, eid: PathId }),
        // An empty request is fine: Fastify validates a missing body as null.
        body: Type.Union([TestBody, Type.Null()], {
          description: "Optional: send no body for a `herald.test` event.",
        }),
        response: answers({ 200: TestResult, 202: TestResult }),
      },
    },
    async (request, reply) => {
      const endpoint = await findEndpoint(db, request.scope, request.params.eid);
      const type = request.body?.type ?? testEventType;
      if (!isEventType(type))
        throw new HttpProblem(
          "validation",
          "type must be a dotted event type such as payment.succeeded.",
          "type",
        );
      const data = request.body?.data ?? {
        message: "This is a test event sent from Herald.",
        endpoint_id: endpoint.id,
      };
      const sent = await sendTestEvent(db, boss, endpoint, type, data);
      announce();
      const attempt = await waiters.waitFor(
        sent.delivery_id,
        endpoint.timeout_ms + pickupAllowanceMs,
        async () => (await listAttempts(db, sent.delivery_id))[0],
      );
      return reply.code(attempt ? 200 : 202).send({
        event_id: sent.event_id,
        delivery_id: sent.delivery_id,
        attempt: attempt ? attemptView(attempt, sent.body) : null,
      });
    },
  );
}
