import {
  customHeadersProblem,
  customPolicyProblem,
  endpointUrlProblem,
  generateSecret,
  isEventTypeFilter,
  isId,
  isValidSecret,
  newId,
  type SignatureScheme,
  sealSecret,
} from "@herald/core";
import {
  createEndpoint,
  type Db,
  deleteEndpoint,
  type Endpoint,
  getEndpoint,
  listEndpoints,
  type Mode as ModeName,
  rotateSecrets,
  type Scope,
  type StoredSecret,
  updateEndpoint,
} from "@herald/db";
import type { FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { writeMode } from "../auth.ts";
import { checkFiltersAgainstCatalog } from "../catalog.ts";
import { HttpProblem, notFound } from "../problems.ts";
import {
  answers,
  listOf,
  MerchantParams,
  Metadata,
  NoContent,
  OneOf,
  PageQuery,
  PathId,
  StringMap,
  Text,
  Timestamp,
  Url,
} from "../schemas.ts";
import { EndpointObject, endpointView } from "../views.ts";

const fields = {
  url: Url,
  description: Text({ maxLength: 1024 }),
  event_types: Type.Array(Text({ minLength: 1, maxLength: 130 }), {
    maxItems: 100,
    description:
      "Event types to receive: exact (`payment.succeeded`), prefix (`payment.*`) or `*`. Empty: all.",
  }),
  enabled: Type.Boolean(),
  retry_policy: EndpointObject.properties.retry_policy,
  signature_scheme: EndpointObject.properties.signature_scheme,
  headers: StringMap(
    Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
    // What HTTP allows in a field value; anything else would fail every delivery.
    Type.String({ maxLength: 1024, pattern: "^[\\t\\x20-\\x7e\\x80-\\xff]*$" }),
    {
      maxProperties: 20,
      description:
        "Sent with every delivery. Refused: Herald's own (webhook-*, content-type, user-agent, the signature header), HTTP's hop-by-hop and framing headers (Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Expect, Host, Content-Length, …), values with leading or trailing whitespace, and two names differing only in case.",
    },
  ),
  timeout_ms: Type.Integer({ minimum: 1000, maximum: 30000, description: "Per attempt; 15000 by default." }),
  metadata: Metadata,
};

const optional = Object.fromEntries(
  Object.entries(fields).map(([name, schema]) => [name, Type.Optional(schema)]),
) as {
  [K in keyof typeof fields]: ReturnType<typeof Type.Optional<(typeof fields)[K]>>;
};

const Secret = Type.String({
  maxLength: 256,
  description:
    "Your own signing secret: `whsec_` and 24 to 64 base64 bytes for `standard`, 16 to 128 printable ASCII characters for the hex schemes. Generated when absent.",
});

const CreateBody = Type.Object(
  {
    ...optional,
    url: fields.url,
    mode: Type.Optional(
      OneOf(["live", "test"], { description: "Defaults to the key's mode; live for the admin key." }),
    ),
    secret: Type.Optional(Secret),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    ...optional,
    disabled_reason: Type.Optional(
      Text({
        maxLength: 512,
        description: "Why it is disabled; only with `enabled: false` or on a disabled endpoint.",
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

const RotateBody = Type.Object(
  {
    grace_period_hours: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 168,
        description: "How long the previous secrets keep signing, 24 by default; 0 retires them now.",
      }),
    ),
    secret: Type.Optional(Secret),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ mid: PathId, eid: PathId });

const disabledThroughApi = "disabled through the API";

/** Endpoints: where a merchant's events go, how they are signed and retried. */
export async function endpointRoutes(app: HeraldApp) {
  const { db, config, allowedCidrs, encryptionKey } = app.herald;

  /** The rules a schema cannot state; each refusal names its field. */
  function checkFields(body: Partial<Static<typeof PatchBody>>, mode: ModeName) {
    if (body.url !== undefined) {
      const problem = endpointUrlProblem(body.url, mode, allowedCidrs);
      if (problem) throw new HttpProblem("validation", `url ${problem}.`, "url");
    }
    const badType = body.event_types?.find((t) => !isEventTypeFilter(t));
    if (badType !== undefined)
      throw new HttpProblem(
        "validation",
        `"${badType}" is not an event type, a prefix.* or *.`,
        "event_types",
      );
    if (body.retry_policy && typeof body.retry_policy === "object") {
      const problem = customPolicyProblem(body.retry_policy.custom);
      if (problem) throw new HttpProblem("validation", `retry_policy.custom ${problem}.`, "retry_policy");
    }
    const headersProblem = body.headers && customHeadersProblem(body.headers, config.signatureHeader);
    if (headersProblem) throw new HttpProblem("validation", `${headersProblem}.`, "headers");
  }

  function checkSecret(scheme: SignatureScheme, secret: string | undefined) {
    if (secret !== undefined && !isValidSecret(scheme, secret)) {
      const rule =
        scheme === "standard"
          ? "whsec_ followed by 24 to 64 bytes in base64"
          : "16 to 128 printable ASCII characters";
      throw new HttpProblem("validation", `secret must be ${rule} for the ${scheme} scheme.`, "secret");
    }
  }

  function sealed(secret: string): StoredSecret {
    return {
      secret: sealSecret(encryptionKey, secret),
      created_at: new Date().toISOString(),
      expires_at: null,
    };
  }

  const load = (request: FastifyRequest<{ Params: Static<typeof Params> }>) =>
    findEndpoint(db, request.scope, request.params.eid);

  app.post(
    "/v1/merchants/:mid/endpoints",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Register an endpoint",
        description:
          "Live-mode URLs must be https. The answer carries the signing `secret`; it is the only time it is shown.",
        params: MerchantParams,
        body: CreateBody,
        response: answers({ 201: Type.Object({ ...EndpointObject.properties, secret: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const mode = writeMode(request.scope, body.mode, "live");
      const scheme = body.signature_scheme ?? "standard";
      checkFields(body, mode);
      await checkFiltersAgainstCatalog(app, body.event_types);
      checkSecret(scheme, body.secret);
      const secret = body.secret ?? generateSecret(scheme);
      const endpoint = await createEndpoint(db, {
        id: newId("endpoint"),
        merchant_id: request.scope.merchantId,
        mode,
        url: body.url,
        description: body.description ?? "",
        event_types: body.event_types ?? [],
        enabled: body.enabled ?? true,
        disabled_reason: body.enabled === false ? disabledThroughApi : null,
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
        params: MerchantParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: answers({ 200: listOf(EndpointObject) }),
      },
    },
    async (request) => {
      const page = await listEndpoints(db, request.scope, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      });
      return { data: page.data.map(endpointView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid/endpoints/:eid",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Get an endpoint",
        params: Params,
        response: answers({ 200: EndpointObject }),
      },
    },
    async (request) => endpointView(await load(request)),
  );

  app.patch(
    "/v1/merchants/:mid/endpoints/:eid",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Update an endpoint",
        description:
          "Only the fields given change; `headers`, `event_types` and `metadata` replace the whole value. " +
          "Re-enabling sends nothing that was missed meanwhile (use recover for that).",
        params: Params,
        body: PatchBody,
        response: answers({ 200: EndpointObject }),
      },
    },
    async (request) => {
      const endpoint = await load(request);
      const body = request.body;
      checkFields(body, endpoint.mode);
      await checkFiltersAgainstCatalog(app, body.event_types);
      if (body.signature_scheme !== undefined && body.signature_scheme !== endpoint.signature_scheme) {
        throw new HttpProblem(
          "validation",
          "signature_scheme cannot change: its secrets would not fit; register a new endpoint instead.",
          "signature_scheme",
        );
      }
      const enabled = body.enabled ?? endpoint.enabled;
      if (body.disabled_reason !== undefined && enabled)
        throw new HttpProblem("validation", "disabled_reason goes with enabled: false.", "disabled_reason");
      const disabling = body.enabled === false && endpoint.enabled;
      const updated = await updateEndpoint(db, request.scope, endpoint.id, {
        ...body,
        ...(disabling && { disabled_reason: body.disabled_reason ?? disabledThroughApi }),
      });
      if (!updated) throw notFound("endpoint");
      return endpointView(updated);
    },
  );

  app.delete(
    "/v1/merchants/:mid/endpoints/:eid",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Delete an endpoint",
        description: "Its pending deliveries are cancelled; its deliveries and attempts stay readable.",
        params: Params,
        response: answers({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const endpoint = await load(request);
      await deleteEndpoint(db, request.scope, endpoint.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/v1/merchants/:mid/endpoints/:eid/rotate-secret",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Rotate the signing secret",
        description:
          "The new secret signs at once; the previous ones keep signing (one signature each) until the grace period ends. The body is optional.",
        params: Params,
        // No body at all means every default; Fastify validates a missing body as null.
        body: Type.Union([RotateBody, Type.Null()]),
        response: answers({
          200: Type.Object({
            secret: Type.String({ description: "The new secret; the only time it is shown." }),
            previous_secrets_expire_at: Type.Union([Timestamp, Type.Null()], {
              description: "When the previous secrets stop signing; null when none still signs.",
            }),
          }),
        }),
      },
    },
    async (request) => {
      const endpoint = await load(request);
      const scheme = endpoint.signature_scheme as SignatureScheme;
      const { secret: supplied, grace_period_hours: graceHours = 24 } = request.body ?? {};
      checkSecret(scheme, supplied);
      const secret = supplied ?? generateSecret(scheme);
      const now = Date.now();
      const graceEnds = new Date(now + graceHours * 3_600_000).toISOString();
      const rotated = await rotateSecrets(db, request.scope, endpoint.id, (current) => [
        sealed(secret),
        ...current
          .map((s) => ({
            ...s,
            expires_at: s.expires_at && s.expires_at < graceEnds ? s.expires_at : graceEnds,
          }))
          .filter((s) => Date.parse(s.expires_at) > now),
      ]);
      if (!rotated) throw notFound("endpoint");
      const lastExpiry = rotated.secrets
        .map((s) => s.expires_at ?? "")
        .sort()
        .at(-1);
      return { secret, previous_secrets_expire_at: lastExpiry || null };
    },
  );
}

/** The endpoint `eid` within the caller's scope; 404 for a malformed, unknown or foreign id. */
export async function findEndpoint(db: Db, scope: Scope, eid: string): Promise<Endpoint> {
  const endpoint = isId("endpoint", eid) ? await getEndpoint(db, scope, eid) : undefined;
  if (!endpoint) throw notFound("endpoint");
  return endpoint;
}
