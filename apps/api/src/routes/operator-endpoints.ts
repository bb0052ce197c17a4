import {
  defaultProfile,
  endpointUrlProblem,
  generateSecret,
  isId,
  newId,
  previousSecretsExpireAt,
  rotatedSecrets,
  sealSecret,
} from "@herald/core";
import {
  createEndpoint,
  deleteEndpoint,
  type Endpoint,
  getDelivery,
  getEndpoint,
  getEvent,
  listAttempts,
  listDeliveries,
  listEndpoints,
  operatorEventTypes,
  operatorMerchantId,
  operatorScope,
  rotateSecrets,
  updateEndpoint,
} from "@herald/db";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { adminOnly } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import {
  answers,
  listOf,
  Metadata,
  NoContent,
  OneOf,
  PageQuery,
  PathId,
  Text,
  Timestamp,
  Url,
} from "../schemas.ts";
import {
  AttemptObject,
  attemptView,
  DeliveryObject,
  deliveryView,
  EndpointObject,
  endpointView,
} from "../views.ts";

const EventTypes = Type.Array(OneOf([...operatorEventTypes, "*"]), {
  maxItems: 10,
  description: "Operator events to receive; empty: all of them.",
});

const fields = {
  url: Url,
  description: Type.Optional(Text({ maxLength: 1024 })),
  event_types: Type.Optional(EventTypes),
  enabled: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(Metadata),
};

const CreateBody = Type.Object(
  {
    ...fields,
    mode: Type.Optional(
      OneOf(["live", "test"], {
        description:
          "Which events it hears of: those about live endpoints and deliveries, or test ones. Live URLs must be https.",
      }),
    ),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  { ...fields, url: Type.Optional(Url) },
  { additionalProperties: false, minProperties: 1 },
);
// Named apart from merchants' {eid} and {did}: an operator endpoint is not a merchant's.
const Params = Type.Object({ oeid: PathId });
const DeliveryParams = Type.Object({ oeid: PathId, odid: PathId });

/**
 * Operator endpoints: where the provider hears about its merchants' endpoints in trouble
 * (operational webhooks, docs/operational-webhooks.md). Admin key only. They are signed with the
 * standard scheme and delivered, retried and logged like any endpoint; their own deliveries and
 * attempts are read at /v1/operator-endpoints/{oeid}/deliveries.
 */
export async function operatorEndpointRoutes(app: HeraldApp) {
  const { db, config, allowedCidrs, encryptionKey } = app.herald;
  app.addHook("onRoute", adminOnly);
  const profile = defaultProfile(config);

  function checkUrl(url: string | undefined, mode: "live" | "test") {
    if (url === undefined) return;
    const problem = endpointUrlProblem(url, mode, allowedCidrs);
    if (problem) throw new HttpProblem("validation", `url ${problem}.`, "url");
  }

  async function load(eid: string): Promise<Endpoint> {
    const endpoint = isId("endpoint", eid) ? await getEndpoint(db, operatorScope, eid) : undefined;
    if (!endpoint) throw notFound("endpoint");
    return endpoint;
  }

  const sealed = (secret: string) => ({
    secret: sealSecret(encryptionKey, secret),
    created_at: new Date().toISOString(),
    expires_at: null,
  });

  app.post(
    "/v1/operator-endpoints",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "Register an operator endpoint",
        description:
          "It receives `endpoint.disabled`, `endpoint.enabled`, `endpoint.failing`, `delivery.exhausted` and `recovery.finished` about merchants' endpoints of its mode. The answer carries the signing `secret` (Standard Webhooks); it is the only time it is shown.",
        body: CreateBody,
        response: answers({ 201: Type.Object({ ...EndpointObject.properties, secret: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const mode = body.mode ?? "live";
      checkUrl(body.url, mode);
      const secret = generateSecret("standard");
      const endpoint = await createEndpoint(db, {
        id: newId("endpoint"),
        merchant_id: operatorMerchantId,
        mode,
        url: body.url,
        description: body.description ?? "",
        event_types: (body.event_types ?? []).filter((t) => t !== "*"),
        enabled: body.enabled ?? true,
        disabled_reason: body.enabled === false ? "disabled through the API" : null,
        retry_policy: profile.retry_policy[mode],
        signature_scheme: "standard",
        headers: {},
        timeout_ms: profile.timeout_ms,
        metadata: body.metadata ?? {},
        secrets: [sealed(secret)],
      });
      return reply.code(201).send({ ...endpointView(endpoint), secret });
    },
  );

  app.get(
    "/v1/operator-endpoints",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "List operator endpoints",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: answers({ 200: listOf(EndpointObject) }),
      },
    },
    async (request) => {
      const page = await listEndpoints(db, operatorScope, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      });
      return { data: page.data.map(endpointView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/operator-endpoints/:oeid",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "Get an operator endpoint",
        params: Params,
        response: answers({ 200: EndpointObject }),
      },
    },
    async (request) => endpointView(await load(request.params.oeid)),
  );

  app.patch(
    "/v1/operator-endpoints/:oeid",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "Update an operator endpoint",
        params: Params,
        body: PatchBody,
        response: answers({ 200: EndpointObject }),
      },
    },
    async (request) => {
      const endpoint = await load(request.params.oeid);
      const body: Static<typeof PatchBody> = request.body;
      checkUrl(body.url, endpoint.mode);
      const updated = await updateEndpoint(db, operatorScope, endpoint.id, {
        ...body,
        ...(body.event_types && { event_types: body.event_types.filter((t) => t !== "*") }),
        ...(body.enabled === false && endpoint.enabled && { disabled_reason: "disabled through the API" }),
      });
      if (!updated) throw notFound("endpoint");
      return endpointView(updated);
    },
  );

  app.delete(
    "/v1/operator-endpoints/:oeid",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "Delete an operator endpoint",
        params: Params,
        response: answers({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const endpoint = await load(request.params.oeid);
      await deleteEndpoint(db, operatorScope, endpoint.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/v1/operator-endpoints/:oeid/rotate-secret",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "Rotate an operator endpoint's secret",
        description:
          "The new secret signs at once; the previous ones keep signing until the grace period ends.",
        params: Params,
        body: Type.Union([
          Type.Object(
            { grace_period_hours: Type.Optional(Type.Number({ minimum: 0, maximum: 168 })) },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: answers({
          200: Type.Object({
            secret: Type.String(),
            previous_secrets_expire_at: Type.Union([Timestamp, Type.Null()]),
          }),
        }),
      },
    },
    async (request) => {
      const endpoint = await load(request.params.oeid);
      const graceHours = request.body?.grace_period_hours ?? 24;
      const secret = generateSecret("standard");
      const rotated = await rotateSecrets(db, operatorScope, endpoint.id, (current) =>
        rotatedSecrets(current, sealed(secret), graceHours, Date.now()),
      );
      if (!rotated) throw notFound("endpoint");
      return { secret, previous_secrets_expire_at: previousSecretsExpireAt(rotated.secrets) };
    },
  );

  app.get(
    "/v1/operator-endpoints/:oeid/deliveries",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "List an operator endpoint's deliveries",
        description: "The operator events sent to it, newest first, with their state.",
        params: Params,
        querystring: Type.Object(
          {
            ...PageQuery,
            status: Type.Optional(OneOf(["pending", "succeeded", "failed", "cancelled"])),
          },
          { additionalProperties: false },
        ),
        response: answers({ 200: listOf(DeliveryObject) }),
      },
    },
    async (request) => {
      const endpoint = await load(request.params.oeid);
      const page = await listDeliveries(
        db,
        { ...operatorScope, endpointId: endpoint.id, status: request.query.status },
        { limit: request.query.limit ?? 20, cursor: request.query.cursor },
      );
      return { data: page.data.map(deliveryView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/operator-endpoints/:oeid/deliveries/:odid",
    {
      schema: {
        tags: ["operator endpoints"],
        summary: "Get an operator delivery with its attempts",
        params: DeliveryParams,
        response: answers({
          200: Type.Object({ ...DeliveryObject.properties, attempts: Type.Array(AttemptObject) }),
        }),
      },
    },
    async (request) => {
      const endpoint = await load(request.params.oeid);
      const { odid: did } = request.params;
      const delivery = isId("delivery", did)
        ? await getDelivery(db, { ...operatorScope, endpointId: endpoint.id }, did)
        : undefined;
      if (!delivery) throw notFound("delivery");
      const [attempts, event] = await Promise.all([
        listAttempts(db, delivery.id),
        getEvent(db, operatorScope, delivery.event_id),
      ]);
      return { ...deliveryView(delivery), attempts: attempts.map((a) => attemptView(a, event?.body ?? "")) };
    },
  );
}
