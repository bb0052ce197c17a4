/**
 * The OpenAPI document as a client generator wants it, derived centrally from the routes' own
 * schemas: route files state what they accept and answer; this module names operations, hoists
 * resources into components, and lists per route only the errors it can give. A route added later
 * gets all of this from the same rules, with nothing to remember.
 */

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked as plain JSON
type Json = any;

const httpMethods = ["get", "put", "post", "delete", "patch", "head", "options"];

/** Names that read better than the rule's; the rule covers everything else. Keyed `METHOD /path`. */
const operationIds: Record<string, string> = {
  "GET /healthz": "getHealth",
  "GET /readyz": "getReadiness",
  "GET /metrics": "getMetrics",
  "GET /v1/retry-policies": "listRetryPolicies",
  "POST /v1/merchants/{mid}/events": "emitEvent",
  "POST /v1/merchants/{mid}/events/batch": "emitEvents",
  "POST /v1/merchants/{mid}/events/{evid}/resend": "resendEvent",
  "POST /v1/merchants/{mid}/endpoints/{eid}/rotate-secret": "rotateEndpointSecret",
  "POST /v1/merchants/{mid}/endpoints/{eid}/test": "testEndpoint",
  "POST /v1/merchants/{mid}/endpoints/{eid}/recover": "recoverEndpoint",
  "POST /v1/merchants/{mid}/deliveries/{did}/retry": "retryDelivery",
  "DELETE /v1/merchants/{mid}/api-keys/{kid}": "revokeApiKey",
  "GET /v1/merchants/{mid}/stats": "getMerchantStats",
  "GET /v1/merchants/{mid}/endpoints/{eid}/stats": "getEndpointStats",
  "GET /v1/merchants/{mid}/endpoints/{eid}/attempts": "listEndpointAttempts",
};

const pascal = (words: string[]) =>
  words
    .flatMap((w) => w.split(/[-_]/))
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
const singular = (noun: string) =>
  noun.endsWith("ies") ? `${noun.slice(0, -3)}y` : noun.endsWith("s") ? noun.slice(0, -1) : noun;

/**
 * `list`/`get`/`create`/`update`/`replace`/`delete` plus the resource, or the action segment of a
 * POST under an item (`POST /…/deliveries/{did}/retry` → `retryDelivery`). Everything under a
 * merchant is scoped by it, so the merchant is not part of the name.
 */
export function operationIdFor(method: string, path: string): string {
  const upper = method.toUpperCase();
  const known = operationIds[`${upper} ${path}`];
  if (known) return known;
  const all = path.split("/").filter((p) => p && p !== "v1");
  const parts = all[0] === "merchants" && all.length > 2 ? all.slice(2) : all;
  const isParam = (p: string | undefined) => p?.startsWith("{") ?? false;
  const nouns = parts.filter((p) => !isParam(p));
  const last = parts.at(-1) ?? "root";
  const item = isParam(last);
  if (upper === "POST" && !item && isParam(parts.at(-2))) {
    const [first = "", ...rest] = last.split(/[-_]/);
    return first + pascal([...rest, ...nouns.slice(0, -1).map(singular)]);
  }
  const verb =
    { GET: item ? "get" : "list", POST: "create", PATCH: "update", PUT: "replace", DELETE: "delete" }[
      upper
    ] ?? method.toLowerCase();
  const named = verb === "list" ? [...nouns.slice(0, -1).map(singular), last] : nouns.map(singular);
  return verb + pascal(named);
}

/** Where each resource's schema first appears; it becomes a component and is referenced everywhere. */
const resources: [name: string, method: string, path: string, pointer: string[]][] = [
  ["Merchant", "get", "/v1/merchants/{mid}", []],
  ["ApiKey", "get", "/v1/merchants/{mid}/api-keys", ["properties", "data", "items"]],
  ["ApiKeyWithKey", "post", "/v1/merchants/{mid}/api-keys", []],
  ["Endpoint", "get", "/v1/merchants/{mid}/endpoints/{eid}", []],
  ["EndpointWithSecret", "post", "/v1/merchants/{mid}/endpoints", []],
  ["RetryPolicy", "get", "/v1/merchants/{mid}/endpoints/{eid}", ["properties", "retry_policy"]],
  ["Event", "get", "/v1/merchants/{mid}/events/{evid}", []],
  ["EmittedEvent", "post", "/v1/merchants/{mid}/events", []],
  ["Delivery", "get", "/v1/merchants/{mid}/deliveries", ["properties", "data", "items"]],
  ["Attempt", "get", "/v1/merchants/{mid}/deliveries/{did}", ["properties", "attempts", "items"]],
  ["DeliveryWithAttempts", "get", "/v1/merchants/{mid}/deliveries/{did}", []],
  ["EndpointAttempt", "get", "/v1/merchants/{mid}/endpoints/{eid}/attempts", ["properties", "data", "items"]],
  ["Operation", "get", "/v1/merchants/{mid}/operations/{opid}", []],
  ["RetryPolicyList", "get", "/v1/retry-policies", []],
];

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function successSchema(doc: Json, method: string, path: string): Json {
  const responses = doc.paths[path]?.[method]?.responses ?? {};
  const status = Object.keys(responses).find((s) => /^2\d\d$/.test(s));
  return status ? responses[status].content?.["application/json"]?.schema : undefined;
}

/** Replaces, top-down, every schema equal to a component by a reference to it. */
function referenceComponents(node: Json, byText: Map<string, string>, skipRoot: boolean): Json {
  if (node === null || typeof node !== "object") return node;
  if (!skipRoot && !Array.isArray(node)) {
    const name = byText.get(JSON.stringify(node));
    if (name) return ref(name);
  }
  if (Array.isArray(node)) return node.map((child) => referenceComponents(child, byText, false));
  return Object.fromEntries(
    Object.entries(node).map(([key, child]) => [key, referenceComponents(child, byText, false)]),
  );
}

/** A page of a list is `{data: [X], next_cursor}` everywhere: such a page becomes `XList`. */
function nameListEnvelopes(doc: Json): void {
  const schemas = doc.components.schemas;
  const visit = (node: Json): Json => {
    if (node === null || typeof node !== "object") return node;
    if (Array.isArray(node)) return node.map(visit);
    const item = node.properties?.data?.items?.$ref as string | undefined;
    if (
      node.type === "object" &&
      item &&
      node.properties.next_cursor &&
      Object.keys(node.properties).length === 2
    ) {
      const name = `${item.split("/").at(-1)}List`;
      schemas[name] ??= { ...node, description: `One page of ${name.slice(0, -4)} objects, newest first.` };
      return ref(name);
    }
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, visit(child)]));
  };
  doc.paths = visit(doc.paths);
}

const problemContent = { "application/problem+json": { schema: ref("Problem") } };
const problemDescriptions: Record<string, string> = {
  "400": "The request is malformed or a field is invalid; `field` names it.",
  "401": "The API key is missing or unknown.",
  "403": "The key may not do this (another merchant, or the other mode).",
  "404": "Nothing of that id within the key's reach.",
  "409": "A conflict with the current state, such as an idempotency key reused with another request.",
  "413": "The request body is larger than the limit.",
  "415": "The body is not JSON.",
  "503": "The database is unreachable or the process is shutting down; retry shortly.",
};

/**
 * Routes that can answer 409; every other route cannot, so it does not say it may. A route added
 * later says so itself with `"x-herald-conflicts": true` in its schema.
 */
const conflicting = new Set(["emitEvent", "retryDelivery"]);

/** The problems `answers()` lists on every route; other error statuses a route declares are its own and kept. */
const derivedStatuses = new Set(["400", "401", "403", "404", "409", "413", "415", "503"]);

/**
 * The errors this route can give, derived from what it is: every path may be malformed (400);
 * a keyed route checks its key (401, 403) and reaches the database (503); an id in the path may
 * name nothing (404); only a body can be too large or not JSON (413, 415).
 */
function errorStatuses(operation: Json, path: string): string[] {
  const keyed = (operation.security ?? []).length > 0;
  return [
    "400",
    ...(keyed ? ["401", "403"] : []),
    ...(path.includes("{") ? ["404"] : []),
    ...(conflicting.has(operation.operationId) || operation["x-herald-conflicts"] ? ["409"] : []),
    ...(operation.requestBody ? ["413", "415"] : []),
    ...(keyed ? ["503"] : []),
  ];
}

const headers = {
  RequestId: {
    description: "The request's id, as sent in `x-request-id` or generated; it is in Herald's logs.",
    schema: { type: "string" },
  },
  IdempotentReplayed: {
    description: "`true` when the Idempotency-Key was used before: the answer is the first event's.",
    schema: { type: "string", enum: ["true"] },
  },
};

/** A `payment.succeeded` event, its endpoint, and a delivery with its attempts, as the API shows them. */
const examples: Record<string, Json> = {
  Event: {
    id: "evt_01jdm3x9k2f8q7v6w5t4r3s2p1",
    mode: "live",
    type: "payment.succeeded",
    created_at: "2026-11-27T09:30:00.000Z",
    data: { payment_id: "pay_8421", amount: 4999, currency: "EUR", customer: "cus_1042" },
  },
  Endpoint: {
    id: "ep_01jdm3w4a7b8c9d0e1f2g3h4j5",
    merchant_id: "mch_01jdm3v1c2d3e4f5g6h7j8k9m0",
    mode: "live",
    url: "https://shop.example.org/webhooks/herald",
    description: "Order service",
    event_types: ["payment.*"],
    enabled: true,
    disabled_reason: null,
    retry_policy: "live",
    signature_scheme: "standard",
    headers: {},
    timeout_ms: 15000,
    metadata: { team: "checkout" },
    rate_limit_per_second: null,
    ordering: "parallel",
    created_at: "2026-11-20T08:00:00.000Z",
    updated_at: "2026-11-20T08:00:00.000Z",
  },
  DeliveryWithAttempts: {
    id: "dlv_01jdm3x9m4n5p6q7r8s9t0v1w2",
    merchant_id: "mch_01jdm3v1c2d3e4f5g6h7j8k9m0",
    mode: "live",
    event_id: "evt_01jdm3x9k2f8q7v6w5t4r3s2p1",
    endpoint_id: "ep_01jdm3w4a7b8c9d0e1f2g3h4j5",
    event_type: "payment.succeeded",
    status: "succeeded",
    attempt_count: 2,
    next_attempt_at: null,
    last_status: 200,
    last_error: null,
    created_at: "2026-11-27T09:30:00.000Z",
    updated_at: "2026-11-27T09:33:00.412Z",
    attempts: [
      {
        id: "att_01jdm3x9n1p2q3r4s5t6v7w8x9",
        number: 1,
        trigger: "scheduled",
        scheduled_at: "2026-11-27T09:30:00.000Z",
        started_at: "2026-11-27T09:30:00.004Z",
        duration_ms: 15000,
        request: {
          url: "https://shop.example.org/webhooks/herald",
          headers: { "content-type": "application/json", "webhook-id": "evt_01jdm3x9k2f8q7v6w5t4r3s2p1" },
          body: '{"id":"evt_01jdm3x9k2f8q7v6w5t4r3s2p1","type":"payment.succeeded","created_at":"2026-11-27T09:30:00.000Z","data":{"amount":4999}}',
        },
        response_status: null,
        response_headers: null,
        response_body: null,
        response_body_encoding: "utf8",
        error: "timeout",
        error_detail: "attempt timed out",
      },
      {
        id: "att_01jdm3yb0c1d2e3f4g5h6j7k8m",
        number: 2,
        trigger: "scheduled",
        scheduled_at: "2026-11-27T09:33:00.000Z",
        started_at: "2026-11-27T09:33:00.390Z",
        duration_ms: 22,
        request: {
          url: "https://shop.example.org/webhooks/herald",
          headers: { "content-type": "application/json", "webhook-id": "evt_01jdm3x9k2f8q7v6w5t4r3s2p1" },
          body: '{"id":"evt_01jdm3x9k2f8q7v6w5t4r3s2p1","type":"payment.succeeded","created_at":"2026-11-27T09:30:00.000Z","data":{"amount":4999}}',
        },
        response_status: 200,
        response_headers: { "content-type": "text/plain" },
        response_body: "ok",
        response_body_encoding: "utf8",
        error: null,
        error_detail: null,
      },
    ],
  },
};

function attachExamples(schemas: Json): void {
  for (const [name, example] of Object.entries(examples))
    if (schemas[name]) schemas[name] = { ...schemas[name], examples: [example] };
}

/** Rewrites the generated document; see the module comment. */
export function finishDocument(doc: Json): Json {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.headers = { ...doc.components.headers, ...headers };

  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>))
    for (const method of httpMethods.filter((m) => item[m])) {
      item[method].operationId ??= operationIdFor(method, path);
    }

  const byText = new Map<string, string>();
  for (const [name, method, path, pointer] of resources) {
    const found = pointer.reduce((node, key) => node?.[key], successSchema(doc, method, path));
    if (found === undefined || byText.has(JSON.stringify(found))) continue;
    byText.set(JSON.stringify(found), name);
    doc.components.schemas[name] = found;
  }
  doc.paths = referenceComponents(doc.paths, byText, false);
  for (const name of Object.keys(doc.components.schemas))
    doc.components.schemas[name] = referenceComponents(doc.components.schemas[name], byText, true);
  nameListEnvelopes(doc);
  attachExamples(doc.components.schemas);

  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>))
    for (const method of httpMethods.filter((m) => item[m])) finishOperation(item[method], path);
  return doc;
}

function finishOperation(operation: Json, path: string): void {
  // A body that may be left out is a union with null in the schema Fastify validates (it sees a
  // missing body as null): the body is optional. The null stays in the schema, since a JSON `null`
  // body is accepted too.
  const body = operation.requestBody;
  const json = body?.content?.["application/json"];
  if (json?.schema?.anyOf?.some((b: Json) => b.type === "null")) body.required = false;
  if (operation.operationId === "emitEvent")
    json.example = { type: "payment.succeeded", data: examples.Event.data };

  // A parameter with a default is filled in by validation, so the handler may count on it, and
  // the schema lists it as required; a caller may leave it out.
  for (const parameter of operation.parameters ?? [])
    if (parameter.schema?.default !== undefined) parameter.required = false;

  const replays = (operation.parameters ?? []).some(
    (p: Json) => p.in === "header" && p.name === "idempotency-key",
  );
  const responses: Json = {};
  for (const [status, response] of Object.entries(operation.responses ?? {}) as [string, Json][]) {
    if (derivedStatuses.has(status)) continue;
    responses[status] = {
      ...response,
      headers: {
        "x-request-id": { $ref: "#/components/headers/RequestId" },
        ...(replays &&
          /^2/.test(status) && {
            "idempotent-replayed": { $ref: "#/components/headers/IdempotentReplayed" },
          }),
      },
    };
  }
  const statuses = errorStatuses(operation, path);
  delete operation["x-herald-conflicts"];
  for (const status of statuses)
    responses[status] = {
      description: problemDescriptions[status],
      headers: { "x-request-id": { $ref: "#/components/headers/RequestId" } },
      content: problemContent,
    };
  const readiness = operation.responses?.["503"];
  if (readiness && !responses["503"]) responses["503"] = readiness;
  operation.responses = responses;
}
