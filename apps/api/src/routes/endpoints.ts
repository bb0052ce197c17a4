import {
  customHeadersProblem,
  customPolicyProblem,
  type DeliveryProfile,
  endpointUrlProblem,
  generateSecret,
  isEventTypeFilter,
  isValidSecret,
  maxEventTypeFilterLength,
  modes,
  newId,
  openSecret,
  previousSecretsExpireAt,
  profileUrlProblem,
  publicKeyOf,
  rotatedSecrets,
  type SignatureScheme,
  sealSecret,
} from "@herald/core";
import {
  createEndpointWithinQuota,
  deleteEndpoint,
  emitOperatorEvents,
  getMerchant,
  listEndpoints,
  type Mode as ModeName,
  releaseParked,
  rotateSecrets,
  type StoredSecret,
  updateEndpoint,
} from "@herald/db";
import type { FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { writeMode } from "../auth.ts";
import { checkFiltersAgainstCatalog } from "../catalog.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { findProfile, ProfileName, storedProfileName } from "../profile-names.ts";
import { findEndpoint } from "../resources.ts";
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
  event_types: Type.Array(Text({ minLength: 1, maxLength: maxEventTypeFilterLength }), {
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
  timeout_ms: Type.Integer({
    minimum: 1000,
    maximum: 30000,
    description: "Per attempt; the profile's default (15000 for `default`) when absent.",
  }),
  metadata: Metadata,
  rate_limit_per_second: Type.Union([
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 10000,
      description:
        "Attempts started per second at most, across every dispatcher (0.5: one every two seconds); null: no limit.",
    }),
    Type.Null(),
  ]),
  ordering: OneOf(["parallel", "fifo"], {
    description:
      "`fifo`: one attempt at a time, in event order; a failing delivery holds the rest back until it succeeds or is exhausted. Test sends and manual retries do not wait.",
  }),
};

const Profile = {
  ...ProfileName,
  description:
    "Its own delivery profile, overriding its merchant's: body shape, hex signature header, success rule, and the defaults of the other fields.",
};

const optional = Object.fromEntries(
  Object.entries(fields).map(([name, schema]) => [name, Type.Optional(schema)]),
) as {
  [K in keyof typeof fields]: ReturnType<typeof Type.Optional<(typeof fields)[K]>>;
};

const Secret = Type.String({
  maxLength: 256,
  description:
    "Your own signing secret: `whsec_` and 24 to 64 base64 bytes for `standard`, 16 to 128 printable ASCII characters for the hex schemes, a `whsk_` Ed25519 key (base64 of the 32-byte seed, or of the seed and public key) for `standard-ed25519`. Generated when absent.",
});

const CreateBody = Type.Object(
  {
    ...optional,
    url: fields.url,
    mode: Type.Optional(OneOf(modes, { description: "Defaults to the key's mode; live for the admin key." })),
    secret: Type.Optional(Secret),
    profile: Type.Optional(Profile),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    ...optional,
    profile: Type.Optional(
      Type.Union([Profile, Type.Null()], { description: "null: its merchant's again." }),
    ),
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
  const { db, boss, announce, config, allowedCidrs, encryptionKey } = app.herald;

  /**
   * The profile an endpoint delivers under: `own` (undefined: unchanged from `current`; null: none),
   * else its merchant's, else the default. An unknown name is refused, naming `profile`.
   */
  async function profileOf(merchantId: string, own: string | null | undefined, current: string | null) {
    const name = own === undefined ? current : storedProfileName(own);
    const merchantProfile = name ? null : ((await getMerchant(db, merchantId))?.profile ?? null);
    const profile = await findProfile(db, config, name ?? merchantProfile);
    if (!profile) throw new HttpProblem("validation", `No profile named ${name}.`, "profile");
    return profile;
  }

  /** The rules a schema cannot state; each refusal names its field. */
  function checkFields(
    body: Partial<Static<typeof PatchBody>>,
    mode: ModeName,
    profile: DeliveryProfile,
    url: string | undefined,
  ) {
    if (body.url !== undefined) {
      const problem = endpointUrlProblem(body.url, mode, allowedCidrs);
      if (problem) throw new HttpProblem("validation", `url ${problem}.`, "url");
    }
    const httpProblem = url === undefined ? null : profileUrlProblem(profile, url, mode);
    if (httpProblem) throw new HttpProblem("validation", `url ${httpProblem}.`, body.url ? "url" : "profile");
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
    const headersProblem = body.headers && customHeadersProblem(body.headers, profile.signature_header);
    if (headersProblem) throw new HttpProblem("validation", `${headersProblem}.`, "headers");
  }

  function checkSecret(scheme: SignatureScheme, secret: string | undefined) {
    if (secret !== undefined && !isValidSecret(scheme, secret)) {
      const rule =
        scheme === "standard"
          ? "whsec_ followed by 24 to 64 bytes in base64"
          : scheme === "standard-ed25519"
            ? "whsk_ followed by the base64 of a 32-byte Ed25519 seed (or of the seed and its public key)"
            : "16 to 128 printable ASCII characters";
      throw new HttpProblem("validation", `secret must be ${rule} for the ${scheme} scheme.`, "secret");
    }
  }

  function sealed(secret: string, scheme: SignatureScheme): StoredSecret {
    const publicKey = scheme === "standard-ed25519" ? publicKeyOf(secret) : undefined;
    return {
      secret: sealSecret(encryptionKey, secret),
      ...(publicKey && { public_key: publicKey }),
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
          "Live-mode URLs must be https. The answer carries the signing `secret`; it is the only time it is shown. For `standard-ed25519` it is the `whpk_` public key: the `whsk_` signing key never leaves Herald.",
        params: MerchantParams,
        body: CreateBody,
        response: answers({ 201: Type.Object({ ...EndpointObject.properties, secret: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const mode = writeMode(request.scope, body.mode, "live");
      const profile = await profileOf(request.scope.merchantId, body.profile, null);
      const scheme = body.signature_scheme ?? profile.signature_scheme;
      checkFields(body, mode, profile, body.url);
      await checkFiltersAgainstCatalog(app, body.event_types);
      checkSecret(scheme, body.secret);
      const secret = body.secret ?? generateSecret(scheme);
      const endpoint = await createEndpointWithinQuota(
        db,
        {
          id: newId("endpoint"),
          merchant_id: request.scope.merchantId,
          mode,
          url: body.url,
          description: body.description ?? "",
          event_types: body.event_types ?? [],
          enabled: body.enabled ?? true,
          disabled_reason: body.enabled === false ? disabledThroughApi : null,
          retry_policy: body.retry_policy ?? profile.retry_policy[mode],
          signature_scheme: scheme,
          headers: body.headers ?? {},
          timeout_ms: body.timeout_ms ?? profile.timeout_ms,
          metadata: body.metadata ?? {},
          profile: body.profile === undefined ? null : storedProfileName(body.profile),
          rate_limit_per_second: body.rate_limit_per_second ?? null,
          ordering: body.ordering ?? "parallel",
          secrets: [sealed(secret, scheme)],
        },
        config.maxEndpointsPerMerchant,
      );
      if (!endpoint) {
        // A quota, so that one merchant's endpoints cannot crowd every other merchant's deliveries.
        throw new HttpProblem(
          "conflict",
          `This merchant has ${config.maxEndpointsPerMerchant} endpoints, the most allowed (HERALD_MAX_ENDPOINTS_PER_MERCHANT); delete one first.`,
          "mid",
        );
      }
      return reply.code(201).send({ ...endpointView(endpoint), secret: shown(scheme, secret) });
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
        limit: request.query.limit,
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
      const profile = await profileOf(request.scope.merchantId, body.profile, endpoint.profile);
      // The URL is checked against the profile again whenever either changes.
      const url = body.url ?? (body.profile !== undefined ? endpoint.url : undefined);
      checkFields(body, endpoint.mode, profile, url);
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
      const enabling = body.enabled === true && !endpoint.enabled;
      // The operator hears of a re-enabled endpoint in the same transaction that re-enables it.
      const updated = await db.transaction().execute(async (trx) => {
        const row = await updateEndpoint(trx, request.scope, endpoint.id, {
          ...body,
          ...(body.profile !== undefined && { profile: storedProfileName(body.profile) }),
          ...(disabling && { disabled_reason: body.disabled_reason ?? disabledThroughApi }),
        });
        if (row && enabling) {
          await emitOperatorEvents(trx, boss, [
            {
              type: "endpoint.enabled",
              mode: row.mode,
              data: { endpoint_id: row.id, merchant_id: row.merchant_id, url: row.url },
            },
          ]);
        }
        return row;
      });
      if (!updated) throw notFound("endpoint");
      // No longer FIFO: the deliveries waiting in its line get their jobs back.
      if (endpoint.ordering === "fifo" && updated.ordering !== "fifo")
        await releaseParked(db, boss, updated.id);
      if (enabling || endpoint.ordering !== updated.ordering) announce();
      return endpointView(updated);
    },
  );

  app.delete(
    "/v1/merchants/:mid/endpoints/:eid",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Delete an endpoint",
        description:
          "Its pending deliveries are cancelled (an attempt already under way is recorded, and leaves them cancelled); its deliveries and attempts stay readable.",
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

  app.get(
    "/v1/merchants/:mid/endpoints/:eid/secret",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Read the signing secret",
        description:
          "The newest secret, for a receiver that lost it (the dashboard's reveal); during a hex scheme's rotation the previous one still signs until the switch. For `standard-ed25519` the `whpk_` public key: the signing key never leaves Herald.",
        params: Params,
        response: answers({
          200: Type.Object({
            secret: Type.String({ description: "The newest secret (or `whpk_` public key)." }),
          }),
        }),
      },
    },
    async (request) => {
      const endpoint = await load(request);
      const scheme = endpoint.signature_scheme as SignatureScheme;
      return { secret: shown(scheme, openSecret(encryptionKey, endpoint.secrets[0]!.secret)) };
    },
  );

  app.post(
    "/v1/merchants/:mid/endpoints/:eid/rotate-secret",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Rotate the signing secret",
        description:
          "`standard` and `standard-ed25519`: the new secret signs at once and the previous ones keep signing (one signature each) until the grace period ends. Hex schemes (one signature only): the previous secret keeps signing until the grace period ends or `secret/activate` is called, the new one from then on. The body is optional.",
        params: Params,
        // No body at all means every default; Fastify validates a missing body as null.
        body: Type.Union([RotateBody, Type.Null()]),
        response: answers({
          200: Type.Object({
            secret: Type.String({
              description:
                "The new secret; the only time it is shown. For `standard-ed25519`, the new `whpk_` public key.",
            }),
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
      const rotated = await rotateSecrets(db, request.scope, endpoint.id, (current) =>
        rotatedSecrets(current, sealed(secret, scheme), graceHours, Date.now()),
      );
      if (!rotated) throw notFound("endpoint");
      return {
        secret: shown(scheme, secret),
        previous_secrets_expire_at: previousSecretsExpireAt(rotated.secrets),
      };
    },
  );

  app.post(
    "/v1/merchants/:mid/endpoints/:eid/secret/activate",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Switch to the newest secret now",
        description:
          "Ends a rotation's grace period at once: the previous secrets stop signing, and every attempt from now on, retries included, is signed with the newest secret alone. For the hex schemes this is the switch: call it once your receiver holds the new secret.",
        params: Params,
        response: answers({
          200: Type.Object({
            activated_at: Timestamp,
            retired: Type.Integer({ description: "How many previous secrets stopped signing." }),
          }),
        }),
      },
    },
    async (request) => {
      const endpoint = await load(request);
      let retired = 0;
      const activated = await rotateSecrets(db, request.scope, endpoint.id, (current) => {
        // The newest secret never expires; the others are the previous ones still in their grace.
        const [newest, ...previous] = current;
        retired = previous.length;
        return newest ? [newest] : current;
      });
      if (!activated) throw notFound("endpoint");
      return { activated_at: activated.updated_at.toISOString(), retired };
    },
  );
}

/**
 * What a merchant is shown of a secret: itself, except a `whsk_` signing key, of which only the
 * `whpk_` public key leaves Herald — a receiver needs nothing else, and a key no one is shown cannot leak.
 */
function shown(scheme: SignatureScheme, secret: string): string {
  return scheme === "standard-ed25519" ? (publicKeyOf(secret) ?? "") : secret;
}
