import { attemptTriggers, customPolicyLimits, deliveryStatuses, signatureSchemes } from "@herald/core";
import type {
  ApiKey,
  Attempt,
  Delivery,
  Endpoint,
  Merchant,
  OperationProgress,
  StoredRetryPolicy,
} from "@herald/db";
import { type Static, type TSchema, Type } from "typebox";
import { Metadata, Mode, OneOf, Timestamp } from "./schemas.ts";

/**
 * How each stored row reads in the API: snake_case, ISO times, nothing secret. Each view has its
 * schema beside it; routes answer with the schema, so a field missing here never leaves the server.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const MerchantObject = Type.Object({
  id: Type.String(),
  name: Type.String(),
  metadata: Metadata,
  profile: Type.Optional(
    Type.String({ description: "The delivery profile of its endpoints that name none; absent: `default`." }),
  ),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const merchantView = (m: Merchant): Static<typeof MerchantObject> => ({
  id: m.id,
  name: m.name,
  metadata: m.metadata,
  ...(m.profile !== null && { profile: m.profile }),
  created_at: m.created_at.toISOString(),
  updated_at: m.updated_at.toISOString(),
});

export const ApiKeyObject = Type.Object({
  id: Type.String(),
  merchant_id: Type.String(),
  mode: Mode,
  prefix: Type.String({ description: "The start of the key, such as `hk_live_`." }),
  last4: Type.String({ description: "The last four characters of the key." }),
  created_at: Timestamp,
  revoked_at: Nullable(Timestamp),
});

export const apiKeyView = (k: ApiKey): Static<typeof ApiKeyObject> => ({
  id: k.id,
  merchant_id: k.merchant_id,
  mode: k.mode,
  prefix: k.prefix,
  last4: k.last4,
  created_at: k.created_at.toISOString(),
  revoked_at: k.revoked_at?.toISOString() ?? null,
});

const RetryPolicy = Type.Union(
  [
    OneOf(["live", "test", "exponential"]),
    Type.Object(
      {
        custom: Type.Array(Type.Integer({ minimum: customPolicyLimits.minDelaySeconds }), {
          minItems: 1,
          maxItems: customPolicyLimits.maxDelays,
          description: `Delays in seconds between attempts, ${customPolicyLimits.maxTotalSeconds} s in total at most.`,
        }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      "A named schedule (see GET /v1/retry-policies) or {custom: [delay seconds…]}. Defaults to the endpoint's mode.",
  },
);

const SignatureScheme = OneOf(signatureSchemes, {
  description:
    "`standard`: Standard Webhooks (`webhook-signature`, `whsec_` secret). `standard-ed25519`: Standard Webhooks' asymmetric `v1a` (`webhook-signature: v1a,<base64>`), signed by a `whsk_` key Herald keeps and verified with the endpoint's `public_key`. The hex schemes: the hex HMAC of the raw body, keyed by the secret string as shown, in the delivery profile's signature header; exactly one signature, also during a rotation. Defaults to the profile's scheme.",
});

export const EndpointObject = Type.Object({
  id: Type.String(),
  merchant_id: Type.String(),
  mode: Mode,
  url: Type.String(),
  description: Type.String(),
  event_types: Type.Array(Type.String(), { description: "Empty: every type." }),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.String()),
  retry_policy: RetryPolicy,
  signature_scheme: SignatureScheme,
  headers: Type.Record(Type.String(), Type.String()),
  timeout_ms: Type.Integer(),
  metadata: Metadata,
  profile: Type.Optional(
    Type.String({ description: "Its own delivery profile; absent: its merchant's (see GET /v1/profiles)." }),
  ),
  public_key: Type.Optional(
    Type.String({
      description:
        "`standard-ed25519` only: the `whpk_` key that verifies its signatures (public; shown always).",
    }),
  ),
  public_keys: Type.Optional(
    Type.Array(
      Type.Object({
        key: Type.String(),
        expires_at: Nullable(Timestamp),
      }),
      {
        description:
          "`standard-ed25519` only: every public key whose signing key signs now, newest first; during a rotation's grace period the previous ones, with the time they stop.",
      },
    ),
  ),
  rate_limit_per_second: Nullable(
    Type.Number({
      description: "Attempts started per second at most, across every dispatcher; null: no limit.",
    }),
  ),
  ordering: OneOf(["parallel", "fifo"], {
    description:
      "`fifo`: deliveries are attempted one at a time in event order, and a failing one holds the rest back until it succeeds or is exhausted.",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** The public keys of an endpoint's signing keys still valid now, newest first. */
function publicKeys(e: Endpoint) {
  const now = Date.now();
  return e.secrets
    .filter((s) => s.public_key && (s.expires_at === null || Date.parse(s.expires_at) > now))
    .map((s) => ({ key: s.public_key as string, expires_at: s.expires_at }));
}

export const endpointView = (e: Endpoint): Static<typeof EndpointObject> => ({
  id: e.id,
  merchant_id: e.merchant_id,
  mode: e.mode,
  url: e.url,
  description: e.description,
  event_types: e.event_types,
  enabled: e.enabled,
  disabled_reason: e.disabled_reason,
  retry_policy: e.retry_policy as StoredRetryPolicy,
  signature_scheme: e.signature_scheme as Static<typeof SignatureScheme>,
  headers: e.headers,
  timeout_ms: e.timeout_ms,
  metadata: e.metadata,
  ...(e.profile !== null && { profile: e.profile }),
  ...(e.signature_scheme === "standard-ed25519" && {
    public_key: e.secrets[0]?.public_key ?? "",
    public_keys: publicKeys(e),
  }),
  rate_limit_per_second: e.rate_limit_per_second,
  ordering: e.ordering,
  created_at: e.created_at.toISOString(),
  updated_at: e.updated_at.toISOString(),
});

export const eventView = (e: { id: string; mode: string; type: string; body: string; created_at: Date }) => ({
  id: e.id,
  mode: e.mode,
  type: e.type,
  created_at: e.created_at.toISOString(),
  data: (JSON.parse(e.body) as { data: unknown }).data,
});

export const DeliveryObject = Type.Object({
  id: Type.String(),
  merchant_id: Type.String(),
  mode: Mode,
  event_id: Type.String(),
  endpoint_id: Type.String(),
  event_type: Type.String(),
  status: OneOf(deliveryStatuses),
  attempt_count: Type.Integer(),
  next_attempt_at: Nullable(Timestamp),
  last_status: Nullable(Type.Integer({ description: "The HTTP status of the latest attempt." })),
  last_error: Nullable(Type.String({ description: "The error class of the latest attempt." })),
  waiting_behind: Type.Optional(
    Type.String({
      description:
        "A FIFO endpoint's pending delivery that is not at the head of its line: the delivery it waits behind.",
    }),
  ),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const deliveryView = (d: Delivery): Static<typeof DeliveryObject> => ({
  id: d.id,
  merchant_id: d.merchant_id,
  mode: d.mode,
  event_id: d.event_id,
  endpoint_id: d.endpoint_id,
  event_type: d.event_type,
  status: d.status,
  attempt_count: d.attempt_count,
  next_attempt_at: d.next_attempt_at?.toISOString() ?? null,
  last_status: d.last_status,
  last_error: d.last_error,
  created_at: d.created_at.toISOString(),
  updated_at: d.updated_at.toISOString(),
});

const Headers = Type.Record(Type.String(), Type.String());

export const AttemptObject = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  trigger: OneOf(attemptTriggers),
  scheduled_at: Timestamp,
  started_at: Timestamp,
  duration_ms: Type.Integer(),
  request: Type.Object({ url: Type.String(), headers: Headers, body: Type.String() }),
  response_status: Nullable(Type.Integer()),
  response_headers: Nullable(Headers),
  response_body: Nullable(Type.String({ description: "Capped at 64 KiB. See response_body_encoding." })),
  response_body_encoding: OneOf(["utf8", "base64"], {
    description:
      "utf8: response_body is the body as received. base64: the body's exact bytes, base64-encoded, because they are not text (a NUL, invalid UTF-8, binary).",
  }),
  error: Nullable(Type.String({ description: "The error class: timeout, connection_refused, dns, …" })),
  error_detail: Nullable(Type.String()),
});

export const attemptView = (a: Attempt, body: string): Static<typeof AttemptObject> => ({
  id: a.id,
  number: a.number,
  trigger: a.trigger,
  scheduled_at: a.scheduled_at.toISOString(),
  started_at: a.started_at.toISOString(),
  duration_ms: a.duration_ms,
  // A profile with another envelope shape sent other bytes than the event's stored body.
  request: { url: a.request_url, headers: a.request_headers, body: a.request_body ?? body },
  response_status: a.response_status,
  response_headers: a.response_headers,
  response_body: a.response_body,
  response_body_encoding: a.response_body_encoding,
  error: a.error,
  error_detail: a.error_detail,
});

export const EndpointAttemptObject = Type.Object({
  ...Type.Omit(AttemptObject, ["request"]).properties,
  delivery_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  request: Type.Object(
    { url: Type.String(), headers: Headers },
    { description: "The body is the event's: GET the delivery to read it." },
  ),
});

/** An attempt in an endpoint's log: with its delivery and event, without the body. */
export const endpointAttemptView = (
  a: Attempt & { event_id: string; event_type: string },
): Static<typeof EndpointAttemptObject> => {
  const { request, ...attempt } = attemptView(a, "");
  return {
    ...attempt,
    delivery_id: a.delivery_id,
    event_id: a.event_id,
    event_type: a.event_type,
    request: { url: request.url, headers: request.headers },
  };
};

export const OperationObject = Type.Object({
  id: Type.String(),
  kind: OneOf(["endpoint.recover"]),
  status: OneOf(["running", "completed", "stopped"], {
    description:
      "`completed` once every delivery was re-sent; `stopped` when the endpoint was disabled or deleted first (recover again once it is enabled).",
  }),
  mode: Mode,
  endpoint_id: Type.String(),
  since: Timestamp,
  until: Timestamp,
  total: Type.Integer({ description: "Failed deliveries in the window when the operation began." }),
  done: Type.Integer({ description: "Re-sent so far: `succeeded` + `failed`." }),
  succeeded: Type.Integer({ description: "Re-sent and now succeeded." }),
  failed: Type.Integer({ description: "Re-sent, and the attempt failed again." }),
  created_at: Timestamp,
});

export const operationView = (o: OperationProgress): Static<typeof OperationObject> => {
  const done = o.succeeded + o.failed;
  return {
    id: o.id,
    kind: o.kind,
    status: done === o.total ? "completed" : o.endpoint_active ? "running" : "stopped",
    mode: o.mode,
    endpoint_id: o.endpoint_id,
    since: o.since.toISOString(),
    until: o.until.toISOString(),
    total: o.total,
    done,
    succeeded: o.succeeded,
    failed: o.failed,
    created_at: o.created_at.toISOString(),
  };
};
