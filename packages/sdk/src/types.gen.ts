// Generated from Herald's OpenAPI document by packages/sdk/scripts/generate-types.ts: do not edit.
// Herald 0.1.0

/** RFC 9457 problem details. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request field at fault, dotted. */
  field?: string;
};

export type Merchant = {
  id: string;
  name: string;
  /** Free-form string pairs for your own bookkeeping. */
  metadata: Record<string, string>;
  /** The delivery profile of its endpoints that name none; absent: `default`. */
  profile?: string;
  created_at: string;
  updated_at: string;
};

export type ApiKey = {
  id: string;
  merchant_id: string;
  mode: "live" | "test";
  /** The start of the key, such as `hk_live_`. */
  prefix: string;
  /** The last four characters of the key. */
  last4: string;
  created_at: string;
  revoked_at: string | null;
};

export type ApiKeyWithKey = {
  id: string;
  merchant_id: string;
  mode: "live" | "test";
  /** The start of the key, such as `hk_live_`. */
  prefix: string;
  /** The last four characters of the key. */
  last4: string;
  created_at: string;
  revoked_at: string | null;
  /** Shown once. */
  key: string;
};

export type Endpoint = {
  id: string;
  merchant_id: string;
  mode: "live" | "test";
  url: string;
  description: string;
  /** Empty: every type. */
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  retry_policy: RetryPolicy;
  /** `standard`: Standard Webhooks (`webhook-signature`, `whsec_` secret). `standard-ed25519`: Standard Webhooks' asymmetric `v1a` (`webhook-signature: v1a,<base64>`), signed by a `whsk_` key Herald keeps and verified with the endpoint's `public_key`. The hex schemes: the hex HMAC of the raw body, keyed by the secret string as shown, in the delivery profile's signature header; exactly one signature, also during a rotation. Defaults to the profile's scheme. */
  signature_scheme: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
  headers: Record<string, string>;
  timeout_ms: number;
  /** Free-form string pairs for your own bookkeeping. */
  metadata: Record<string, string>;
  /** Its own delivery profile; absent: its merchant's (see GET /v1/profiles). */
  profile?: string;
  /** `standard-ed25519` only: the `whpk_` key that verifies its signatures (public; shown always). */
  public_key?: string;
  /** `standard-ed25519` only: every public key whose signing key signs now, newest first; during a rotation's grace period the previous ones, with the time they stop. */
  public_keys?: {
    key: string;
    expires_at: string | null;
  }[];
  rate_limit_per_second: number | null;
  /** `fifo`: deliveries are attempted one at a time in event order, and a failing one holds the rest back until it succeeds or is exhausted. */
  ordering: "parallel" | "fifo";
  created_at: string;
  updated_at: string;
};

export type EndpointWithSecret = {
  id: string;
  merchant_id: string;
  mode: "live" | "test";
  url: string;
  description: string;
  /** Empty: every type. */
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  retry_policy: RetryPolicy;
  /** `standard`: Standard Webhooks (`webhook-signature`, `whsec_` secret). `standard-ed25519`: Standard Webhooks' asymmetric `v1a` (`webhook-signature: v1a,<base64>`), signed by a `whsk_` key Herald keeps and verified with the endpoint's `public_key`. The hex schemes: the hex HMAC of the raw body, keyed by the secret string as shown, in the delivery profile's signature header; exactly one signature, also during a rotation. Defaults to the profile's scheme. */
  signature_scheme: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
  headers: Record<string, string>;
  timeout_ms: number;
  /** Free-form string pairs for your own bookkeeping. */
  metadata: Record<string, string>;
  /** Its own delivery profile; absent: its merchant's (see GET /v1/profiles). */
  profile?: string;
  /** `standard-ed25519` only: the `whpk_` key that verifies its signatures (public; shown always). */
  public_key?: string;
  /** `standard-ed25519` only: every public key whose signing key signs now, newest first; during a rotation's grace period the previous ones, with the time they stop. */
  public_keys?: {
    key: string;
    expires_at: string | null;
  }[];
  rate_limit_per_second: number | null;
  /** `fifo`: deliveries are attempted one at a time in event order, and a failing one holds the rest back until it succeeds or is exhausted. */
  ordering: "parallel" | "fifo";
  created_at: string;
  updated_at: string;
  secret: string;
};

/** A named schedule (see GET /v1/retry-policies) or {custom: [delay seconds…]}. Defaults to the endpoint's mode. */
export type RetryPolicy =
  | ("live" | "test" | "exponential")
  | {
      /** Delays in seconds between attempts, 604800 s in total at most. */
      custom: number[];
    };

export type Event = {
  id: string;
  mode: "live" | "test";
  type: string;
  created_at: string;
  /** Any JSON object, nested at most 400 levels; delivered exactly as sent, key order kept. A number whose delivered text would denote another value (`1e400` becomes `null`, most integers beyond 2^53 come out with other digits) is refused with 400 naming its path: send such values as strings. */
  data: Record<string, unknown>;
};

export type EmittedEvent = {
  id: string;
  type: string;
  created_at: string;
  /** How many endpoints the event fans out to. */
  deliveries: number;
};

export type Delivery = {
  id: string;
  merchant_id: string;
  mode: "live" | "test";
  event_id: string;
  endpoint_id: string;
  event_type: string;
  status: "pending" | "succeeded" | "failed" | "cancelled";
  attempt_count: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  /** A FIFO endpoint's pending delivery that is not at the head of its line: the delivery it waits behind. */
  waiting_behind?: string;
  created_at: string;
  updated_at: string;
};

export type Attempt = {
  id: string;
  number: number;
  trigger: "scheduled" | "manual" | "test";
  scheduled_at: string;
  started_at: string;
  duration_ms: number;
  request: {
    url: string;
    headers: Record<string, string>;
    body: string;
  };
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  /** utf8: response_body is the body as received. base64: the body's exact bytes, base64-encoded, because they are not text (a NUL, invalid UTF-8, binary). */
  response_body_encoding: "utf8" | "base64";
  error: string | null;
  error_detail: string | null;
};

export type DeliveryWithAttempts = {
  id: string;
  merchant_id: string;
  mode: "live" | "test";
  event_id: string;
  endpoint_id: string;
  event_type: string;
  status: "pending" | "succeeded" | "failed" | "cancelled";
  attempt_count: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  /** A FIFO endpoint's pending delivery that is not at the head of its line: the delivery it waits behind. */
  waiting_behind?: string;
  created_at: string;
  updated_at: string;
  attempts: Attempt[];
};

export type EndpointAttempt = {
  id: string;
  number: number;
  trigger: "scheduled" | "manual" | "test";
  scheduled_at: string;
  started_at: string;
  duration_ms: number;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  /** utf8: response_body is the body as received. base64: the body's exact bytes, base64-encoded, because they are not text (a NUL, invalid UTF-8, binary). */
  response_body_encoding: "utf8" | "base64";
  error: string | null;
  error_detail: string | null;
  delivery_id: string;
  event_id: string;
  event_type: string;
  /** The body is the event's: GET the delivery to read it. */
  request: {
    url: string;
    headers: Record<string, string>;
  };
};

export type Operation = {
  id: string;
  kind: "endpoint.recover";
  /** `completed` once every delivery was re-sent; `stopped` when the endpoint was disabled or deleted first (recover again once it is enabled). */
  status: "running" | "completed" | "stopped";
  mode: "live" | "test";
  endpoint_id: string;
  since: string;
  until: string;
  /** Failed deliveries in the window when the operation began. */
  total: number;
  /** Re-sent so far: `succeeded` + `failed`. */
  done: number;
  /** Re-sent and now succeeded. */
  succeeded: number;
  /** Re-sent, and the attempt failed again. */
  failed: number;
  created_at: string;
};

export type RetryPolicyList = {
  data: {
    name: "live" | "test" | "exponential";
    /** How many attempts the schedule makes at most. */
    attempts: number;
    /** When each attempt is due, in seconds after the first. */
    offsets_seconds: number[];
    /** When the last attempt is due. */
    window_seconds?: number;
  }[];
};

/** One page of Merchant objects, newest first. */
export type MerchantList = {
  data: Merchant[];
  next_cursor: string | null;
};

/** One page of ApiKey objects, newest first. */
export type ApiKeyList = {
  data: ApiKey[];
  next_cursor: string | null;
};

/** One page of Endpoint objects, newest first. */
export type EndpointList = {
  data: Endpoint[];
  next_cursor: string | null;
};

/** One page of Event objects, newest first. */
export type EventList = {
  data: Event[];
  next_cursor: string | null;
};

/** One page of Delivery objects, newest first. */
export type DeliveryList = {
  data: Delivery[];
  next_cursor: string | null;
};

/** One page of EndpointAttempt objects, newest first. */
export type EndpointAttemptList = {
  data: EndpointAttempt[];
  next_cursor: string | null;
};

/** Each operation's inputs and answer, by operationId. */
export interface Operations {
  /** GET /healthz: The process is alive */
  getHealth: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      status: string;
    };
  };
  /** GET /readyz: The database is reachable and migrated */
  getReadiness: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      status: string;
    };
  };
  /** GET /metrics: Prometheus metrics */
  getMetrics: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: string;
  };
  /** GET /v1/retry-policies: Every named retry schedule */
  listRetryPolicies: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: RetryPolicyList;
  };
  /** GET /v1/merchants: List merchants */
  listMerchants: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
    };
    body: never;
    bodyRequired: false;
    answer: MerchantList;
  };
  /** POST /v1/merchants: Create a merchant */
  createMerchant: {
    query: Record<string, never>;
    body: {
      name: string;
      /** Free-form string pairs for your own bookkeeping. */
      metadata?: Record<string, string>;
      /** The delivery profile of its endpoints that name none; `default` when absent. */
      profile?: string;
    };
    bodyRequired: true;
    answer: Merchant;
  };
  /** GET /v1/merchants/{mid}: Get a merchant */
  getMerchant: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: Merchant;
  };
  /** PATCH /v1/merchants/{mid}: Update a merchant */
  updateMerchant: {
    query: Record<string, never>;
    body: {
      name?: string;
      /** Free-form string pairs for your own bookkeeping. */
      metadata?: Record<string, string>;
      /** The delivery profile of its endpoints that name none; `default` when absent. */
      profile?: string;
    };
    bodyRequired: true;
    answer: Merchant;
  };
  /** DELETE /v1/merchants/{mid}: Delete a merchant */
  deleteMerchant: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: undefined;
  };
  /** GET /v1/profiles: List delivery profiles */
  listProfiles: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      data: {
        name: string;
        description: string;
        /** The body is exactly `JSON.stringify` of {id?, <type_field>, created_at?, data}, in that key order. */
        envelope: {
          /** What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), … */
          type_field: string;
          /** Whether the body carries the event `id`. */
          id: boolean;
          /** Whether the body carries `created_at`. */
          created_at: boolean;
          /** `iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number. */
          timestamp_format: "iso" | "iso-seconds" | "unix";
        };
        /** The scheme of new endpoints that name none. */
        signature_scheme: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
        /** The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`. */
        signature_header: string;
        /** Which responses count as delivered. */
        success_rule: "2xx" | "200";
        /** The retry policy of new endpoints that name none, by mode. */
        retry_policy: {
          live: RetryPolicy;
          test: RetryPolicy;
        };
        /** Whether an endpoint of that mode may have an http URL. `live` must be false: live is always https. */
        allow_http: {
          live: boolean;
          test: boolean;
        };
        /** For new endpoints that name none. */
        timeout_ms: number;
        /** True for `default`, which the deployment's environment sets and the API cannot change. */
        builtin: boolean;
      }[];
      next_cursor: null;
    };
  };
  /** POST /v1/profiles: Create a delivery profile */
  createProfile: {
    query: Record<string, never>;
    body: {
      /** Lower-case letters, digits, `-` and `_`; `default` is the built-in profile. */
      name: string;
      description?: string;
      envelope?: {
        /** What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), … */
        type_field?: string;
        /** Whether the body carries the event `id`. */
        id?: boolean;
        /** Whether the body carries `created_at`. */
        created_at?: boolean;
        /** `iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number. */
        timestamp_format?: "iso" | "iso-seconds" | "unix";
      };
      /** The scheme of new endpoints that name none. */
      signature_scheme?: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`. */
      signature_header?: string;
      /** Which responses count as delivered. */
      success_rule?: "2xx" | "200";
      retry_policy?: {
        live?: RetryPolicy;
        test?: RetryPolicy;
      };
      allow_http?: {
        live?: boolean;
        test?: boolean;
      };
      /** For new endpoints that name none. */
      timeout_ms?: number;
    };
    bodyRequired: true;
    answer: {
      name: string;
      description: string;
      /** The body is exactly `JSON.stringify` of {id?, <type_field>, created_at?, data}, in that key order. */
      envelope: {
        /** What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), … */
        type_field: string;
        /** Whether the body carries the event `id`. */
        id: boolean;
        /** Whether the body carries `created_at`. */
        created_at: boolean;
        /** `iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number. */
        timestamp_format: "iso" | "iso-seconds" | "unix";
      };
      /** The scheme of new endpoints that name none. */
      signature_scheme: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`. */
      signature_header: string;
      /** Which responses count as delivered. */
      success_rule: "2xx" | "200";
      /** The retry policy of new endpoints that name none, by mode. */
      retry_policy: {
        live: RetryPolicy;
        test: RetryPolicy;
      };
      /** Whether an endpoint of that mode may have an http URL. `live` must be false: live is always https. */
      allow_http: {
        live: boolean;
        test: boolean;
      };
      /** For new endpoints that name none. */
      timeout_ms: number;
      /** True for `default`, which the deployment's environment sets and the API cannot change. */
      builtin: boolean;
    };
  };
  /** GET /v1/profiles/{name}: Get a delivery profile */
  getProfile: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      name: string;
      description: string;
      /** The body is exactly `JSON.stringify` of {id?, <type_field>, created_at?, data}, in that key order. */
      envelope: {
        /** What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), … */
        type_field: string;
        /** Whether the body carries the event `id`. */
        id: boolean;
        /** Whether the body carries `created_at`. */
        created_at: boolean;
        /** `iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number. */
        timestamp_format: "iso" | "iso-seconds" | "unix";
      };
      /** The scheme of new endpoints that name none. */
      signature_scheme: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`. */
      signature_header: string;
      /** Which responses count as delivered. */
      success_rule: "2xx" | "200";
      /** The retry policy of new endpoints that name none, by mode. */
      retry_policy: {
        live: RetryPolicy;
        test: RetryPolicy;
      };
      /** Whether an endpoint of that mode may have an http URL. `live` must be false: live is always https. */
      allow_http: {
        live: boolean;
        test: boolean;
      };
      /** For new endpoints that name none. */
      timeout_ms: number;
      /** True for `default`, which the deployment's environment sets and the API cannot change. */
      builtin: boolean;
    };
  };
  /** PATCH /v1/profiles/{name}: Update a delivery profile */
  updateProfile: {
    query: Record<string, never>;
    body: {
      description?: string;
      envelope?: {
        /** What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), … */
        type_field?: string;
        /** Whether the body carries the event `id`. */
        id?: boolean;
        /** Whether the body carries `created_at`. */
        created_at?: boolean;
        /** `iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number. */
        timestamp_format?: "iso" | "iso-seconds" | "unix";
      };
      /** The scheme of new endpoints that name none. */
      signature_scheme?: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`. */
      signature_header?: string;
      /** Which responses count as delivered. */
      success_rule?: "2xx" | "200";
      retry_policy?: {
        live?: RetryPolicy;
        test?: RetryPolicy;
      };
      allow_http?: {
        live?: boolean;
        test?: boolean;
      };
      /** For new endpoints that name none. */
      timeout_ms?: number;
    };
    bodyRequired: true;
    answer: {
      name: string;
      description: string;
      /** The body is exactly `JSON.stringify` of {id?, <type_field>, created_at?, data}, in that key order. */
      envelope: {
        /** What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), … */
        type_field: string;
        /** Whether the body carries the event `id`. */
        id: boolean;
        /** Whether the body carries `created_at`. */
        created_at: boolean;
        /** `iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number. */
        timestamp_format: "iso" | "iso-seconds" | "unix";
      };
      /** The scheme of new endpoints that name none. */
      signature_scheme: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`. */
      signature_header: string;
      /** Which responses count as delivered. */
      success_rule: "2xx" | "200";
      /** The retry policy of new endpoints that name none, by mode. */
      retry_policy: {
        live: RetryPolicy;
        test: RetryPolicy;
      };
      /** Whether an endpoint of that mode may have an http URL. `live` must be false: live is always https. */
      allow_http: {
        live: boolean;
        test: boolean;
      };
      /** For new endpoints that name none. */
      timeout_ms: number;
      /** True for `default`, which the deployment's environment sets and the API cannot change. */
      builtin: boolean;
    };
  };
  /** GET /v1/merchants/{mid}/api-keys: List a merchant's API keys (prefix and last 4 only) */
  listApiKeys: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
    };
    body: never;
    bodyRequired: false;
    answer: ApiKeyList;
  };
  /** POST /v1/merchants/{mid}/api-keys: Create a merchant API key */
  createApiKey: {
    query: Record<string, never>;
    body: {
      mode: "live" | "test";
    };
    bodyRequired: true;
    answer: ApiKeyWithKey;
  };
  /** DELETE /v1/merchants/{mid}/api-keys/{kid}: Revoke an API key */
  revokeApiKey: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: undefined;
  };
  /** GET /v1/merchants/{mid}/endpoints: List endpoints */
  listEndpoints: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
    };
    body: never;
    bodyRequired: false;
    answer: EndpointList;
  };
  /** POST /v1/merchants/{mid}/endpoints: Register an endpoint */
  createEndpoint: {
    query: Record<string, never>;
    body: {
      url: string;
      description?: string;
      /** Event types to receive: exact (`payment.succeeded`), prefix (`payment.*`) or `*`. Empty: all. */
      event_types?: string[];
      enabled?: boolean;
      retry_policy?: RetryPolicy;
      /** `standard`: Standard Webhooks (`webhook-signature`, `whsec_` secret). `standard-ed25519`: Standard Webhooks' asymmetric `v1a` (`webhook-signature: v1a,<base64>`), signed by a `whsk_` key Herald keeps and verified with the endpoint's `public_key`. The hex schemes: the hex HMAC of the raw body, keyed by the secret string as shown, in the delivery profile's signature header; exactly one signature, also during a rotation. Defaults to the profile's scheme. */
      signature_scheme?: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** Sent with every delivery. Refused: Herald's own (webhook-*, content-type, user-agent, the signature header), HTTP's hop-by-hop and framing headers (Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Expect, Host, Content-Length, …), values with leading or trailing whitespace, and two names differing only in case. */
      headers?: Record<string, string>;
      /** Per attempt; the profile's default (15000 for `default`) when absent. */
      timeout_ms?: number;
      /** Free-form string pairs for your own bookkeeping. */
      metadata?: Record<string, string>;
      rate_limit_per_second?: number | null;
      /** `fifo`: one attempt at a time, in event order; a failing delivery holds the rest back until it succeeds or is exhausted. Test sends and manual retries do not wait. */
      ordering?: "parallel" | "fifo";
      /** Defaults to the key's mode; live for the admin key. */
      mode?: "live" | "test";
      /** Your own signing secret: `whsec_` and 24 to 64 base64 bytes for `standard`, 16 to 128 printable ASCII characters for the hex schemes, a `whsk_` Ed25519 key (base64 of the 32-byte seed, or of the seed and public key) for `standard-ed25519`. Generated when absent. */
      secret?: string;
      /** Its own delivery profile, overriding its merchant's: body shape, hex signature header, success rule, and the defaults of the other fields. */
      profile?: string;
    };
    bodyRequired: true;
    answer: EndpointWithSecret;
  };
  /** GET /v1/merchants/{mid}/endpoints/{eid}: Get an endpoint */
  getEndpoint: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: Endpoint;
  };
  /** PATCH /v1/merchants/{mid}/endpoints/{eid}: Update an endpoint */
  updateEndpoint: {
    query: Record<string, never>;
    body: {
      url?: string;
      description?: string;
      /** Event types to receive: exact (`payment.succeeded`), prefix (`payment.*`) or `*`. Empty: all. */
      event_types?: string[];
      enabled?: boolean;
      retry_policy?: RetryPolicy;
      /** `standard`: Standard Webhooks (`webhook-signature`, `whsec_` secret). `standard-ed25519`: Standard Webhooks' asymmetric `v1a` (`webhook-signature: v1a,<base64>`), signed by a `whsk_` key Herald keeps and verified with the endpoint's `public_key`. The hex schemes: the hex HMAC of the raw body, keyed by the secret string as shown, in the delivery profile's signature header; exactly one signature, also during a rotation. Defaults to the profile's scheme. */
      signature_scheme?: "standard" | "hmac-sha256-hex" | "hmac-sha512-hex" | "standard-ed25519";
      /** Sent with every delivery. Refused: Herald's own (webhook-*, content-type, user-agent, the signature header), HTTP's hop-by-hop and framing headers (Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Expect, Host, Content-Length, …), values with leading or trailing whitespace, and two names differing only in case. */
      headers?: Record<string, string>;
      /** Per attempt; the profile's default (15000 for `default`) when absent. */
      timeout_ms?: number;
      /** Free-form string pairs for your own bookkeeping. */
      metadata?: Record<string, string>;
      rate_limit_per_second?: number | null;
      /** `fifo`: one attempt at a time, in event order; a failing delivery holds the rest back until it succeeds or is exhausted. Test sends and manual retries do not wait. */
      ordering?: "parallel" | "fifo";
      /** null: its merchant's again. */
      profile?: string | null;
      /** Why it is disabled; only with `enabled: false` or on a disabled endpoint. */
      disabled_reason?: string;
    };
    bodyRequired: true;
    answer: Endpoint;
  };
  /** DELETE /v1/merchants/{mid}/endpoints/{eid}: Delete an endpoint */
  deleteEndpoint: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: undefined;
  };
  /** GET /v1/merchants/{mid}/endpoints/{eid}/secret: Read the signing secret */
  listEndpointSecret: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      /** The newest secret (or `whpk_` public key). */
      secret: string;
    };
  };
  /** POST /v1/merchants/{mid}/endpoints/{eid}/rotate-secret: Rotate the signing secret */
  rotateEndpointSecret: {
    query: Record<string, never>;
    body: {
      /** How long the previous secrets keep signing, 24 by default; 0 retires them now. */
      grace_period_hours?: number;
      /** Your own signing secret: `whsec_` and 24 to 64 base64 bytes for `standard`, 16 to 128 printable ASCII characters for the hex schemes, a `whsk_` Ed25519 key (base64 of the 32-byte seed, or of the seed and public key) for `standard-ed25519`. Generated when absent. */
      secret?: string;
    } | null;
    bodyRequired: false;
    answer: {
      /** The new secret; the only time it is shown. For `standard-ed25519`, the new `whpk_` public key. */
      secret: string;
      /** When the previous secrets stop signing; null when none still signs. */
      previous_secrets_expire_at: string | null;
    };
  };
  /** POST /v1/merchants/{mid}/endpoints/{eid}/secret/activate: Switch to the newest secret now */
  createEndpointSecretActivate: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      activated_at: string;
      /** How many previous secrets stopped signing. */
      retired: number;
    };
  };
  /** GET /v1/merchants/{mid}/events: List events */
  listEvents: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
      /** An exact type, or a prefix such as `payment.*`. */
      type?: string;
      since?: string;
      until?: string;
    };
    body: never;
    bodyRequired: false;
    answer: EventList;
  };
  /** POST /v1/merchants/{mid}/events: Emit an event */
  emitEvent: {
    query: Record<string, never>;
    body: {
      /** Dotted name of `[a-zA-Z0-9_-]` parts, such as `payment.succeeded`. */
      type: string;
      /** Any JSON object, nested at most 400 levels; delivered exactly as sent, key order kept. A number whose delivered text would denote another value (`1e400` becomes `null`, most integers beyond 2^53 come out with other digits) is refused with 400 naming its path: send such values as strings. */
      data: Record<string, unknown>;
      mode?: "live" | "test";
    };
    bodyRequired: true;
    answer: EmittedEvent;
  };
  /** POST /v1/merchants/{mid}/events/batch: Emit up to 1000 events at once */
  emitEvents: {
    query: Record<string, never>;
    body: {
      events: {
        /** Dotted name of `[a-zA-Z0-9_-]` parts, such as `payment.succeeded`. */
        type: string;
        /** Any JSON object, nested at most 400 levels; delivered exactly as sent, key order kept. A number whose delivered text would denote another value (`1e400` becomes `null`, most integers beyond 2^53 come out with other digits) is refused with 400 naming its path: send such values as strings. */
        data: Record<string, unknown>;
        mode?: "live" | "test";
        /** Printable ASCII, unique per merchant and mode for as long as the event is kept (the retention period, 30 days by default): live and test emits never share keys. A repeat answers with the first event and creates nothing; a repeat with another type or data answers 409. */
        idempotency_key?: string;
      }[];
    };
    bodyRequired: true;
    answer: {
      data: (
        | {
            id: string;
            type: string;
            created_at: string;
            /** How many endpoints the event fans out to. */
            deliveries: number;
            /** The idempotency key was used before: this is the first event. */
            replayed: boolean;
          }
        | {
            error: Problem;
          }
      )[];
    };
  };
  /** GET /v1/merchants/{mid}/events/{evid}: Get an event */
  getEvent: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: Event;
  };
  /** GET /v1/event-types: List the catalog */
  listEventTypes: {
    query: {
      /** Only the type or types under it: `payment` or `payment.*`. */
      prefix?: string;
      include_deprecated?: boolean;
      limit?: number;
      /** `next_cursor` of the previous page. */
      cursor?: string;
    };
    body: never;
    bodyRequired: false;
    answer: {
      data: {
        name: string;
        /** The first dotted part of the name: `payment` for `payment.succeeded`. */
        group: string;
        description: string;
        /** A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 naming the field. Strict: unknown keywords and formats are refused. Null: any object. */
        schema: Record<string, unknown> | boolean | null;
        /** An example `data`; it must satisfy the schema. */
        example: Record<string, unknown> | null;
        /** Still accepted on emit; shown so merchants stop subscribing to it. */
        deprecated: boolean;
        created_at: string;
        updated_at: string;
      }[];
      next_cursor: string | null;
    };
  };
  /** POST /v1/event-types: Add an event type to the catalog */
  createEventType: {
    query: Record<string, never>;
    body: {
      /** The event type, as emitted: dotted parts of `[a-zA-Z0-9_-]`, such as `payment.succeeded`. */
      name: string;
      description?: string;
      /** A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 naming the field. Strict: unknown keywords and formats are refused. Null: any object. */
      schema?: Record<string, unknown> | boolean | null;
      /** An example `data`; it must satisfy the schema. */
      example?: Record<string, unknown> | null;
      deprecated?: boolean;
    };
    bodyRequired: true;
    answer: {
      name: string;
      /** The first dotted part of the name: `payment` for `payment.succeeded`. */
      group: string;
      description: string;
      /** A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 naming the field. Strict: unknown keywords and formats are refused. Null: any object. */
      schema: Record<string, unknown> | boolean | null;
      /** An example `data`; it must satisfy the schema. */
      example: Record<string, unknown> | null;
      /** Still accepted on emit; shown so merchants stop subscribing to it. */
      deprecated: boolean;
      created_at: string;
      updated_at: string;
    };
  };
  /** GET /v1/event-type-groups: The catalog's names, grouped by prefix */
  listEventTypeGroups: {
    query: {
      include_deprecated?: boolean;
    };
    body: never;
    bodyRequired: false;
    answer: {
      data: {
        group: string;
        types: string[];
      }[];
    };
  };
  /** GET /v1/event-types/{name}: Get an event type */
  getEventType: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: {
      name: string;
      /** The first dotted part of the name: `payment` for `payment.succeeded`. */
      group: string;
      description: string;
      /** A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 naming the field. Strict: unknown keywords and formats are refused. Null: any object. */
      schema: Record<string, unknown> | boolean | null;
      /** An example `data`; it must satisfy the schema. */
      example: Record<string, unknown> | null;
      /** Still accepted on emit; shown so merchants stop subscribing to it. */
      deprecated: boolean;
      created_at: string;
      updated_at: string;
    };
  };
  /** PATCH /v1/event-types/{name}: Change an event type */
  updateEventType: {
    query: Record<string, never>;
    body: {
      description?: string;
      /** A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 naming the field. Strict: unknown keywords and formats are refused. Null: any object. */
      schema?: Record<string, unknown> | boolean | null;
      /** An example `data`; it must satisfy the schema. */
      example?: Record<string, unknown> | null;
      deprecated?: boolean;
    };
    bodyRequired: true;
    answer: {
      name: string;
      /** The first dotted part of the name: `payment` for `payment.succeeded`. */
      group: string;
      description: string;
      /** A JSON Schema (draft 2020-12) for the event's `data`; emitting this type with `data` it rejects answers 400 naming the field. Strict: unknown keywords and formats are refused. Null: any object. */
      schema: Record<string, unknown> | boolean | null;
      /** An example `data`; it must satisfy the schema. */
      example: Record<string, unknown> | null;
      /** Still accepted on emit; shown so merchants stop subscribing to it. */
      deprecated: boolean;
      created_at: string;
      updated_at: string;
    };
  };
  /** DELETE /v1/event-types/{name}: Remove an event type from the catalog */
  deleteEventType: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: undefined;
  };
  /** GET /v1/merchants/{mid}/deliveries: List deliveries */
  listDeliveries: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
      endpoint_id?: string;
      event_id?: string;
      event_type?: string;
      status?: "pending" | "succeeded" | "failed" | "cancelled";
      since?: string;
      until?: string;
    };
    body: never;
    bodyRequired: false;
    answer: DeliveryList;
  };
  /** GET /v1/merchants/{mid}/deliveries/{did}: Get a delivery with its attempts */
  getDelivery: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: DeliveryWithAttempts;
  };
  /** GET /v1/merchants/{mid}/endpoints/{eid}/attempts: List an endpoint's attempts */
  listEndpointAttempts: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
    };
    body: never;
    bodyRequired: false;
    answer: EndpointAttemptList;
  };
  /** POST /v1/merchants/{mid}/deliveries/{did}/retry: Retry a delivery now */
  retryDelivery: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: Delivery;
  };
  /** POST /v1/merchants/{mid}/endpoints/{eid}/recover: Re-send an endpoint's failed deliveries */
  recoverEndpoint: {
    query: Record<string, never>;
    body: {
      since: string;
      /** Defaults to now. */
      until?: string;
    };
    bodyRequired: true;
    answer: Operation;
  };
  /** POST /v1/merchants/{mid}/events/{evid}/resend: Send an event again */
  resendEvent: {
    query: Record<string, never>;
    body: {
      /** Only this endpoint; by default every enabled endpoint the event matches. */
      endpoint_id?: string;
    } | null;
    bodyRequired: false;
    answer: {
      event_id: string;
      deliveries: {
        delivery_id: string;
        endpoint_id: string;
        /** True when the endpoint had no delivery of this event (it was added or enabled later): a new delivery, on the endpoint's retry schedule. Otherwise the existing delivery gets one manual attempt. */
        created: boolean;
      }[];
    };
  };
  /** GET /v1/merchants/{mid}/operations/{opid}: Get a background operation's progress */
  getOperation: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: Operation;
  };
  /** POST /v1/merchants/{mid}/endpoints/{eid}/test: Send a test event to this endpoint now */
  testEndpoint: {
    query: Record<string, never>;
    body: {
      /** The event type to send; `herald.test` by default. */
      type?: string;
      /** The event's data, such as a sample of that type; a short test message by default. */
      data?: Record<string, unknown>;
    } | null;
    bodyRequired: false;
    answer: {
      event_id: string;
      delivery_id: string;
      /** The attempt, once made; null (with status 202) when none was made in time: GET the delivery later. */
      attempt: Attempt | null;
    };
  };
  /** GET /v1/merchants/{mid}/endpoints/{eid}/stats: An endpoint's delivery statistics */
  getEndpointStats: {
    query: {
      /** Defaults to 24 hours before `until`. */
      since?: string;
      /** Defaults to now. */
      until?: string;
    };
    body: never;
    bodyRequired: false;
    answer: {
      endpoint_id: string;
      since: string;
      until: string;
      /** Attempts started in the window, every trigger; latency is each attempt's duration, failures included. */
      attempts: {
        total: number;
        succeeded: number;
        failed: number;
        /** succeeded / total; null without attempts. */
        success_rate: number | null;
        latency_p50_ms: number | null;
        latency_p95_ms: number | null;
      };
      /** Deliveries created in the window, by their status now. */
      deliveries: {
        total: number;
        pending: number;
        succeeded: number;
        failed: number;
        cancelled: number;
      };
    };
  };
  /** GET /v1/merchants/{mid}/stats: A merchant's delivery statistics */
  getMerchantStats: {
    query: {
      /** Defaults to 24 hours before `until`. */
      since?: string;
      /** Defaults to now. */
      until?: string;
      mode?: "live" | "test";
    };
    body: never;
    bodyRequired: false;
    answer: {
      merchant_id: string;
      /** Null: both modes together. */
      mode: ("live" | "test") | null;
      since: string;
      until: string;
      /** Attempts started in the window, every trigger; latency is each attempt's duration, failures included. */
      attempts: {
        total: number;
        succeeded: number;
        failed: number;
        /** succeeded / total; null without attempts. */
        success_rate: number | null;
        latency_p50_ms: number | null;
        latency_p95_ms: number | null;
      };
      /** Deliveries created in the window, by their status now. */
      deliveries: {
        total: number;
        pending: number;
        succeeded: number;
        failed: number;
        cancelled: number;
      };
    };
  };
  /** POST /v1/merchants/{mid}/portal-sessions: Create a one-time merchant portal link */
  createPortalSession: {
    query: Record<string, never>;
    body: {
      /** Only this mode's data; by default the session can switch between live and test. */
      mode?: "live" | "test";
      /** The session may look but change nothing. False by default. */
      read_only?: boolean;
      /** How long the session lasts once opened, in seconds; 3600 by default. */
      ttl?: number;
    } | null;
    bodyRequired: false;
    answer: {
      /** Open (or embed in an iframe) once, within `expires_at`; the one secret Herald puts in a URL. */
      url: string;
      expires_at: string;
      merchant_id: string;
      mode: ("live" | "test") | null;
      read_only: boolean;
      /** Seconds the session lasts once the link is opened. */
      session_ttl: number;
    };
  };
  /** GET /v1/operator-endpoints: List operator endpoints */
  listOperatorEndpoints: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
    };
    body: never;
    bodyRequired: false;
    answer: EndpointList;
  };
  /** POST /v1/operator-endpoints: Register an operator endpoint */
  createOperatorEndpoint: {
    query: Record<string, never>;
    body: {
      url: string;
      description?: string;
      /** Operator events to receive; empty: all of them. */
      event_types?: (
        | "endpoint.disabled"
        | "endpoint.enabled"
        | "endpoint.failing"
        | "delivery.exhausted"
        | "recovery.finished"
        | "*"
      )[];
      enabled?: boolean;
      /** Free-form string pairs for your own bookkeeping. */
      metadata?: Record<string, string>;
      /** Which events it hears of: those about live endpoints and deliveries, or test ones. Live URLs must be https. */
      mode?: "live" | "test";
    };
    bodyRequired: true;
    answer: EndpointWithSecret;
  };
  /** GET /v1/operator-endpoints/{oeid}: Get an operator endpoint */
  getOperatorEndpoint: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: Endpoint;
  };
  /** PATCH /v1/operator-endpoints/{oeid}: Update an operator endpoint */
  updateOperatorEndpoint: {
    query: Record<string, never>;
    body: {
      url?: string;
      description?: string;
      /** Operator events to receive; empty: all of them. */
      event_types?: (
        | "endpoint.disabled"
        | "endpoint.enabled"
        | "endpoint.failing"
        | "delivery.exhausted"
        | "recovery.finished"
        | "*"
      )[];
      enabled?: boolean;
      /** Free-form string pairs for your own bookkeeping. */
      metadata?: Record<string, string>;
    };
    bodyRequired: true;
    answer: Endpoint;
  };
  /** DELETE /v1/operator-endpoints/{oeid}: Delete an operator endpoint */
  deleteOperatorEndpoint: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: undefined;
  };
  /** POST /v1/operator-endpoints/{oeid}/rotate-secret: Rotate an operator endpoint's secret */
  rotateSecretOperatorEndpoint: {
    query: Record<string, never>;
    body: {
      grace_period_hours?: number;
    } | null;
    bodyRequired: false;
    answer: {
      secret: string;
      previous_secrets_expire_at: string | null;
    };
  };
  /** GET /v1/operator-endpoints/{oeid}/deliveries: List an operator endpoint's deliveries */
  listOperatorEndpointDeliveries: {
    query: {
      limit?: number;
      /** Opaque: `next_cursor` of the previous page. */
      cursor?: string;
      status?: "pending" | "succeeded" | "failed" | "cancelled";
    };
    body: never;
    bodyRequired: false;
    answer: DeliveryList;
  };
  /** GET /v1/operator-endpoints/{oeid}/deliveries/{odid}: Get an operator delivery with its attempts */
  getOperatorEndpointDelivery: {
    query: Record<string, never>;
    body: never;
    bodyRequired: false;
    answer: DeliveryWithAttempts;
  };
}

/** Each operation's method and path template, by operationId. */
export const operationRoutes = {
  getHealth: ["GET", "/healthz"],
  getReadiness: ["GET", "/readyz"],
  getMetrics: ["GET", "/metrics"],
  listRetryPolicies: ["GET", "/v1/retry-policies"],
  listMerchants: ["GET", "/v1/merchants"],
  createMerchant: ["POST", "/v1/merchants"],
  getMerchant: ["GET", "/v1/merchants/{mid}"],
  updateMerchant: ["PATCH", "/v1/merchants/{mid}"],
  deleteMerchant: ["DELETE", "/v1/merchants/{mid}"],
  listProfiles: ["GET", "/v1/profiles"],
  createProfile: ["POST", "/v1/profiles"],
  getProfile: ["GET", "/v1/profiles/{name}"],
  updateProfile: ["PATCH", "/v1/profiles/{name}"],
  listApiKeys: ["GET", "/v1/merchants/{mid}/api-keys"],
  createApiKey: ["POST", "/v1/merchants/{mid}/api-keys"],
  revokeApiKey: ["DELETE", "/v1/merchants/{mid}/api-keys/{kid}"],
  listEndpoints: ["GET", "/v1/merchants/{mid}/endpoints"],
  createEndpoint: ["POST", "/v1/merchants/{mid}/endpoints"],
  getEndpoint: ["GET", "/v1/merchants/{mid}/endpoints/{eid}"],
  updateEndpoint: ["PATCH", "/v1/merchants/{mid}/endpoints/{eid}"],
  deleteEndpoint: ["DELETE", "/v1/merchants/{mid}/endpoints/{eid}"],
  listEndpointSecret: ["GET", "/v1/merchants/{mid}/endpoints/{eid}/secret"],
  rotateEndpointSecret: ["POST", "/v1/merchants/{mid}/endpoints/{eid}/rotate-secret"],
  createEndpointSecretActivate: ["POST", "/v1/merchants/{mid}/endpoints/{eid}/secret/activate"],
  listEvents: ["GET", "/v1/merchants/{mid}/events"],
  emitEvent: ["POST", "/v1/merchants/{mid}/events"],
  emitEvents: ["POST", "/v1/merchants/{mid}/events/batch"],
  getEvent: ["GET", "/v1/merchants/{mid}/events/{evid}"],
  listEventTypes: ["GET", "/v1/event-types"],
  createEventType: ["POST", "/v1/event-types"],
  listEventTypeGroups: ["GET", "/v1/event-type-groups"],
  getEventType: ["GET", "/v1/event-types/{name}"],
  updateEventType: ["PATCH", "/v1/event-types/{name}"],
  deleteEventType: ["DELETE", "/v1/event-types/{name}"],
  listDeliveries: ["GET", "/v1/merchants/{mid}/deliveries"],
  getDelivery: ["GET", "/v1/merchants/{mid}/deliveries/{did}"],
  listEndpointAttempts: ["GET", "/v1/merchants/{mid}/endpoints/{eid}/attempts"],
  retryDelivery: ["POST", "/v1/merchants/{mid}/deliveries/{did}/retry"],
  recoverEndpoint: ["POST", "/v1/merchants/{mid}/endpoints/{eid}/recover"],
  resendEvent: ["POST", "/v1/merchants/{mid}/events/{evid}/resend"],
  getOperation: ["GET", "/v1/merchants/{mid}/operations/{opid}"],
  testEndpoint: ["POST", "/v1/merchants/{mid}/endpoints/{eid}/test"],
  getEndpointStats: ["GET", "/v1/merchants/{mid}/endpoints/{eid}/stats"],
  getMerchantStats: ["GET", "/v1/merchants/{mid}/stats"],
  createPortalSession: ["POST", "/v1/merchants/{mid}/portal-sessions"],
  listOperatorEndpoints: ["GET", "/v1/operator-endpoints"],
  createOperatorEndpoint: ["POST", "/v1/operator-endpoints"],
  getOperatorEndpoint: ["GET", "/v1/operator-endpoints/{oeid}"],
  updateOperatorEndpoint: ["PATCH", "/v1/operator-endpoints/{oeid}"],
  deleteOperatorEndpoint: ["DELETE", "/v1/operator-endpoints/{oeid}"],
  rotateSecretOperatorEndpoint: ["POST", "/v1/operator-endpoints/{oeid}/rotate-secret"],
  listOperatorEndpointDeliveries: ["GET", "/v1/operator-endpoints/{oeid}/deliveries"],
  getOperatorEndpointDelivery: ["GET", "/v1/operator-endpoints/{oeid}/deliveries/{odid}"],
} as const;
