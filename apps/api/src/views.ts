import type { ApiKey, Attempt, Delivery, Endpoint, Merchant } from "@herald/db";

/** How each stored row reads in the API: snake_case, ISO times, nothing secret. */

export const merchantView = (m: Merchant) => ({
  id: m.id,
  name: m.name,
  metadata: m.metadata,
  created_at: m.created_at.toISOString(),
  updated_at: m.updated_at.toISOString(),
});

export const apiKeyView = (k: ApiKey) => ({
  id: k.id,
  merchant_id: k.merchant_id,
  mode: k.mode,
  prefix: k.prefix,
  last4: k.last4,
  created_at: k.created_at.toISOString(),
  revoked_at: k.revoked_at?.toISOString() ?? null,
});

export const endpointView = (e: Endpoint) => ({
  id: e.id,
  merchant_id: e.merchant_id,
  mode: e.mode,
  url: e.url,
  description: e.description,
  event_types: e.event_types,
  enabled: e.enabled,
  disabled_reason: e.disabled_reason,
  retry_policy: e.retry_policy,
  signature_scheme: e.signature_scheme,
  headers: e.headers,
  timeout_ms: e.timeout_ms,
  metadata: e.metadata,
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

export const deliveryView = (d: Delivery) => ({
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

export const attemptView = (a: Attempt, body: string) => ({
  id: a.id,
  number: a.number,
  trigger: a.trigger,
  scheduled_at: a.scheduled_at.toISOString(),
  started_at: a.started_at.toISOString(),
  duration_ms: a.duration_ms,
  request: { url: a.request_url, headers: a.request_headers, body },
  response_status: a.response_status,
  response_headers: a.response_headers,
  response_body: a.response_body,
  error: a.error,
  error_detail: a.error_detail,
});
