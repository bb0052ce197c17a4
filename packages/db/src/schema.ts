import type { AttemptTrigger, DeliveryStatus, Mode, RetryPolicy, SignatureScheme } from "@herald/core";
import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

/** Herald's database, table by table, as `migrations/*.sql` creates it. */
export interface Database {
  merchants: MerchantsTable;
  api_keys: ApiKeysTable;
  endpoints: EndpointsTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  operations: OperationsTable;
  operation_deliveries: OperationDeliveriesTable;
  key_checks: KeyChecksTable;
  profiles: ProfilesTable;
  relay_sessions: RelaySessionsTable;
  relay_requests: RelayRequestsTable;
  portal_links: PortalLinksTable;
  portal_sessions: PortalSessionsTable;
  event_types: EventTypesTable;
  "herald.settings": HeraldSettingsTable;
  endpoint_slots: EndpointSlotsTable;
  endpoint_pauses: EndpointPausesTable;
  fifo_parked: FifoParkedTable;
  operator_notices: OperatorNoticesTable;
}

export type { AttemptTrigger, DeliveryStatus, Mode, SignatureScheme };

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;
type Json<T> = ColumnType<T, string, string>;

export interface MerchantsTable {
  id: string;
  name: string;
  metadata: Json<Record<string, string>>;
  /** Its delivery profile; null: the deployment's default. */
  profile: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  deleted_at: Date | null;
}

export interface ApiKeysTable {
  id: string;
  merchant_id: string;
  mode: Mode;
  key_hash: Buffer;
  prefix: string;
  last4: string;
  created_at: CreatedAt;
  revoked_at: Date | null;
}

/**
 * One signing secret as stored: `secret` is the AES-256-GCM box of the plain secret. For
 * `standard-ed25519`, `public_key` is the `whpk_` key of the sealed `whsk_` one, kept in clear
 * because it is public and shown with the endpoint without opening the box.
 */
export interface StoredSecret {
  secret: string;
  public_key?: string;
  created_at: string;
  expires_at: string | null;
}

export type StoredRetryPolicy = RetryPolicy;

export interface EndpointsTable {
  id: string;
  merchant_id: string;
  mode: Mode;
  url: string;
  description: string;
  event_types: string[];
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  retry_policy: Json<StoredRetryPolicy>;
  signature_scheme: SignatureScheme;
  headers: Json<Record<string, string>>;
  timeout_ms: number;
  metadata: Json<Record<string, string>>;
  secrets: Json<StoredSecret[]>;
  /** Its own delivery profile; null: its merchant's. */
  profile: ColumnType<string | null, string | null | undefined, string | null>;
  failing_since: Date | null;
  /** Attempts started per second at most, across every dispatcher; null: no limit. */
  rate_limit_per_second: ColumnType<number | null, number | null | undefined, number | null>;
  ordering: ColumnType<EndpointOrdering, EndpointOrdering | undefined, EndpointOrdering>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  deleted_at: Date | null;
}

export type EndpointOrdering = "parallel" | "fifo";

export interface EndpointSlotsTable {
  endpoint_id: string;
  next_at: Date;
}

export interface EndpointPausesTable {
  endpoint_id: string;
  paused_until: Date;
}

export interface FifoParkedTable {
  delivery_id: string;
  endpoint_id: string;
}

export interface OperatorNoticesTable {
  subject_id: string;
  kind: string;
  sent_at: ColumnType<Date, Date | undefined, Date>;
}

export interface EventsTable {
  id: string;
  merchant_id: string;
  mode: Mode;
  type: string;
  body: string;
  idempotency_key: string | null;
  request_hash: Buffer | null;
  created_at: Date;
}

export interface DeliveriesTable {
  id: string;
  merchant_id: string;
  mode: Mode;
  event_id: string;
  endpoint_id: string;
  event_type: string;
  status: Generated<DeliveryStatus>;
  attempt_count: Generated<number>;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: UpdatedAt;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  number: number;
  trigger: AttemptTrigger;
  scheduled_at: Date;
  started_at: Date;
  duration_ms: number;
  request_url: string;
  request_headers: Json<Record<string, string>>;
  response_status: number | null;
  response_headers: Json<Record<string, string>> | null;
  response_body: string | null;
  /** 'base64' when the body's bytes are not storable as text (NUL, invalid UTF-8, binary). */
  response_body_encoding: Generated<"utf8" | "base64">;
  error: string | null;
  error_detail: string | null;
  /** What was sent when it differs from the event's stored body (another envelope shape). */
  request_body: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface KeyChecksTable {
  name: string;
  check_value: string;
  created_at: CreatedAt;
}

export type OperationKind = "endpoint.recover";

export interface OperationsTable {
  id: string;
  merchant_id: string;
  mode: Mode;
  kind: OperationKind;
  endpoint_id: string;
  since: Date;
  until: Date;
  created_at: CreatedAt;
}

export interface OperationDeliveriesTable {
  operation_id: string;
  delivery_id: string;
  attempts_before: number;
}

/** A stored delivery profile; `settings` is everything but the name (core's `ProfileSettings`). */
export interface ProfilesTable {
  name: string;
  settings: Json<unknown>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface RelaySessionsTable {
  id: string;
  merchant_id: string;
  endpoint_id: string;
  created_at: CreatedAt;
  connected_at: Date | null;
  last_seen_at: Date | null;
}

export interface RelayRequestsTable {
  id: string;
  session_id: string;
  delivery_id: string;
  headers: Json<Record<string, string>>;
  body: string;
  created_at: CreatedAt;
  expires_at: Date;
  taken_at: Date | null;
  answered_at: Date | null;
  response_status: number | null;
  response_headers: ColumnType<Record<string, string> | null, string | null, string | null>;
  response_body: string | null;
  duration_ms: number | null;
  error: string | null;
  error_detail: string | null;
}

export type Merchant = Selectable<MerchantsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type Endpoint = Selectable<EndpointsTable>;
export type Event = Selectable<EventsTable>;
export type Delivery = Selectable<DeliveriesTable>;
export type Attempt = Selectable<AttemptsTable>;
export type NewAttempt = Insertable<AttemptsTable>;
export type Operation = Selectable<OperationsTable>;
export type StoredProfile = Selectable<ProfilesTable>;
export type RelaySession = Selectable<RelaySessionsTable>;
export type RelayRequest = Selectable<RelayRequestsTable>;

export interface PortalLinksTable {
  token_hash: Buffer;
  merchant_id: string;
  mode: Mode | null;
  read_only: boolean;
  session_seconds: number;
  expires_at: Date;
  used_at: Date | null;
  created_at: CreatedAt;
}

export type PortalSessionKind = "operator" | "api_key" | "link";

export interface PortalSessionsTable {
  token_hash: Buffer;
  kind: PortalSessionKind;
  merchant_id: string | null;
  mode: Mode | null;
  api_key_id: string | null;
  read_only: Generated<boolean>;
  created_at: CreatedAt;
  expires_at: Date;
  ended_at: Date | null;
}

export type PortalSession = Selectable<PortalSessionsTable>;

export interface EventTypesTable {
  name: string;
  description: Generated<string>;
  /** A JSON Schema (draft 2020-12) for `data`; null accepts any object. */
  schema: ColumnType<Record<string, unknown> | boolean | null, string | null | undefined, string | null>;
  example: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  deprecated: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** What herald.emit (migrations/0010b_herald_emit.sql) reads of the API's configuration: one row. */
export interface HeraldSettingsTable {
  one: Generated<boolean>;
  max_data_bytes: number;
  require_known_types: boolean;
}
