import {
  customPolicyProblem,
  endpointUrlProblem,
  generateSecret,
  isEventTypeFilter,
  isId,
  isReservedHeader,
  isValidSecret,
  newId,
  type SignatureScheme,
  sealSecret,
  signatureSchemes,
} from "@herald/core";
import {
  createEndpoint,
  deleteEndpoint,
  type Endpoint,
  type EndpointFields,
  getEndpoint,
  listEndpoints,
  type Mode as ModeName,
  type Scope,
  type StoredSecret,
  updateEndpoint,
} from "@herald/db";
import type { FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { merchantScope, writeMode } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { Metadata, Mode, PageQuery } from "../schemas.ts";
import { endpointView } from "../views.ts";

const RetryPolicy = Type.Union(
  [
    Type.Literal("live"),
    Type.Literal("test"),
    Type.Literal("exponential"),
    Type.Object(
      { custom: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 50 }) },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      "A named schedule (see GET /v1/retry-policies) or {custom: [delay seconds…]}. Defaults to the endpoint's mode.",
  },
);

const fields = {
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  description: Type.String({ maxLength: 1024 }),
  event_types: Type.Array(Type.String({ minLength: 1, maxLength: 130 }), {
    maxItems: 100,
    description:
      "Event types to receive: exact (`payment.succeeded`), prefix (`payment.*`) or `*`. Empty: all.",
  }),
  enabled: Type.Boolean(),
  retry_policy: RetryPolicy,
  signature_scheme: Type.Union(signatureSchemes.map((s) => Type.Literal(s))),
  headers: Type.Record(
    Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
    Type.String({ maxLength: 1024 }),
    {
      maxProperties: 20,
    },
  ),
  timeout_ms: Type.Integer({ minimum: 1000, maximum: 30000 }),
  metadata: Metadata,
};

const optional = Object.fromEntries(
  Object.entries(fields).map(([name, schema]) => [name, Type.Optional(schema)]),
) as {
  [K in keyof typeof fields]: ReturnType<typeof Type.Optional<(typeof fields)[K]>>;
};

const CreateBody = Type.Object(
  {
    ...optional,
    url: fields.url,
    mode: Type.Optional(Mode),
    secret: Type.Optional(
      Type.String({ maxLength: 256, description: "Your own signing secret; generated when absent." }),
    ),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  { ...optional, disabled_reason: Type.Optional(Type.String({ maxLength: 512 })) },
  { additionalProperties: false, minProperties: 1 },
);

const Params = Type.Object({ mid: Type.String({ maxLength: 64 }), eid: Type.String({ maxLength: 64 }) });

/** Endpoints: where a merchant's events go, how they are signed and retried. */
export async function endpointRoutes(app: HeraldApp) {
  const { db, config, allowedCidrs, encryptionKey } = app.herald;

  function checkFields(body: Partial<Static<typeof PatchBody>>, mode: ModeName, scheme: SignatureScheme) {
    if (body.url !== undefined) {
      const problem = endpointUrlProblem(body.url, mode, allowedCidrs);
      if (problem) throw new HttpProblem("validation", `url ${problem}.`, "url");
    }
    const badType = body.event_types?.find((t) => !isEventTypeFilter(t));
    if (badType !== undefined)
      throw new HttpProblem("validation", `"${badType}" is not an event type or prefix.*`, "event_types");
    if (body.retry_policy && typeof body.retry_policy === "object") {
      const problem = customPolicyProblem(body.retry_policy.custom);
      if (problem) throw new HttpProblem("validation", `retry_policy.custom ${problem}.`, "retry_policy");
    }
    const reserved = Object.keys(body.headers ?? {}).find((name) =>
      isReservedHeader(name, config.signatureHeader),
    );
    if (reserved)
      throw new HttpProblem(
        "validation",
        `header "${reserved}" is set by Herald and cannot be overridden.`,
        "headers",
      );
    void scheme;
  }

  function sealed(secret: string): StoredSecret {
    return {
      secret: sealSecret(encryptionKey, secret),
      created_at: new Date().toISOString(),
      expires_at: null,
    };
  }

  async function load(
    request: FastifyRequest<{ Params: Static<typeof Params> }>,
  ): Promise<[Scope, Endpoint]> {
    const scope = await merchantScope(request, db, request.params.mid);
    const endpoint = isId("endpoint", request.params.eid)
      ? await getEndpoint(db, scope, request.params.eid)
      : undefined;
    if (!endpoint) throw notFound("endpoint");
    return [scope, endpoint];
  }

  app.post(
    "/v1/merchants/:mid/endpoints",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Register an endpoint",
        description: "The answer carries the signing `secret`; it is the only time it is shown.",
        params: Type.Object({ mid: Type.String({ maxLength: 64 }) }),
        body: CreateBody,
      },
    },
    async (request, reply) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const body = request.body;
      const mode = writeMode(scope, body.mode, "live");
      const scheme = body.signature_scheme ?? "standard";
      checkFields(body, mode, scheme);
      if (body.secret !== undefined && !isValidSecret(scheme, body.secret)) {
        const rule =
          scheme === "standard"
            ? "whsec_ followed by 24 to 64 bytes in base64"
            : "16 to 128 printable characters";
        throw new HttpProblem("validation", `secret must be ${rule}.`, "secret");
      }
      const secret = body.secret ?? generateSecret(scheme);
      const endpoint = await createEndpoint(db, {
        id: newId("endpoint"),
        merchant_id: scope.merchantId,
        mode,
        url: body.url,
        description: body.description ?? "",
        event_types: body.event_types ?? [],
        enabled: body.enabled ?? true,
        disabled_reason: null,
        retry_policy: body.retry_policy ?? mode,
        signature_scheme: scheme,
        headers: body.headers ?? {},
        timeout_ms: body.timeout_ms ?? 15000,
        metadata: body.metadata ?? {},
        secrets: [sealed(secret)],
      });
      return reply.code(201).send({ ...endpointView(endpoint), secret });
    },
  );

  app.get(
    "/v1/merchants/:mid/endpoints",
    {
      schema: {
        tags: ["endpoints"],
        summary: "List endpoints",
        params: Type.Object({ mid: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
      },
    },
    async (request) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const page = await listEndpoints(db, scope, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      });
      return { data: page.data.map(endpointView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid/endpoints/:eid",
    { schema: { tags: ["endpoints"], summary: "Get an endpoint", params: Params } },
    async (request) => {
      const [, endpoint] = await load(request);
      return endpointView(endpoint);
    },
  );

  app.patch(
    "/v1/merchants/:mid/endpoints/:eid",
    { schema: { tags: ["endpoints"], summary: "Update an endpoint", params: Params, body: PatchBody } },
    async (request) => {
      const [scope, endpoint] = await load(request);
      checkFields(request.body, endpoint.mode, endpoint.signature_scheme as SignatureScheme);
      if (request.body.signature_scheme && request.body.signature_scheme !== endpoint.signature_scheme) {
        throw new HttpProblem(
          "validation",
          "signature_scheme cannot change: register a new endpoint instead.",
          "signature_scheme",
        );
      }
      const patch: Partial<EndpointFields> = { ...request.body };
      if (request.body.enabled === false)
        patch.disabled_reason = request.body.disabled_reason ?? "disabled through the API";
      const updated = await updateEndpoint(db, scope, endpoint.id, patch);
      if (!updated) throw notFound("endpoint");
      return endpointView(updated);
    },
  );

  app.delete(
    "/v1/merchants/:mid/endpoints/:eid",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Delete an endpoint; its pending deliveries are cancelled",
        params: Params,
      },
    },
    async (request, reply) => {
      const [scope, endpoint] = await load(request);
      await deleteEndpoint(db, scope, endpoint.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/merchants/:mid/endpoints/:eid/rotate-secret",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Rotate the signing secret",
        description:
          "The new secret signs at once; the previous ones keep signing (one signature each) until the grace period ends.",
        params: Params,
        body: Type.Optional(
          Type.Object(
            {
              grace_period_hours: Type.Optional(Type.Number({ minimum: 0, maximum: 168, default: 24 })),
              secret: Type.Optional(Type.String({ maxLength: 256 })),
            },
            { additionalProperties: false },
          ),
        ),
      },
    },
    async (request) => {
      const [scope, endpoint] = await load(request);
      const scheme = endpoint.signature_scheme as SignatureScheme;
      const supplied = request.body?.secret;
      if (supplied !== undefined && !isValidSecret(scheme, supplied))
        throw new HttpProblem("validation", "secret is not valid for this scheme.", "secret");
      const now = Date.now();
      const graceEnds = new Date(now + (request.body?.grace_period_hours ?? 24) * 3_600_000).toISOString();
      const previous = endpoint.secrets
        .filter((s) => s.expires_at === null || Date.parse(s.expires_at) > now)
        .map((s) => ({
          ...s,
          expires_at: s.expires_at && s.expires_at < graceEnds ? s.expires_at : graceEnds,
        }));
      const secret = supplied ?? generateSecret(scheme);
      await updateEndpoint(db, scope, endpoint.id, { secrets: [sealed(secret), ...previous] });
      return { secret, previous_secrets_expire_at: previous.length > 0 ? graceEnds : null };
    },
  );
}
