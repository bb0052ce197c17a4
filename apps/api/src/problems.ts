import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * Every error answers RFC 9457 `application/problem+json`: a stable `type` and `title`, the
 * `status`, a human `detail`, and the request `field` at fault when there is one.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
}

const titles: Record<string, [number, string]> = {
  validation: [400, "Invalid request"],
  malformed_json: [400, "Malformed JSON"],
  unauthorized: [401, "Missing or invalid API key"],
  forbidden: [403, "Not allowed with this API key"],
  not_found: [404, "Not found"],
  method_not_allowed: [405, "Method not allowed"],
  conflict: [409, "Conflict"],
  idempotency_conflict: [409, "Idempotency key reused with a different request"],
  payload_too_large: [413, "Request body too large"],
  unsupported_media_type: [415, "Unsupported media type"],
  service_unavailable: [503, "Service unavailable"],
  internal: [500, "Internal error"],
};

export type ProblemKind = keyof typeof titles;

export class HttpProblem extends Error {
  readonly problem: Problem;
  constructor(kind: ProblemKind, detail: string, field?: string) {
    super(detail);
    const [status, title] = titles[kind]!;
    this.problem = { type: `urn:herald:problem:${kind}`, title, status, detail, ...(field && { field }) };
  }
}

export const notFound = (what: string) => new HttpProblem("not_found", `No such ${what}.`);

export function sendProblem(reply: FastifyReply, problem: Problem) {
  return reply.code(problem.status).type("application/problem+json").send(problem);
}

// Postgres is down or restarting: the client should retry, nothing was accepted.
const unavailableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

function isUnavailable(error: { code?: string; message?: string }): boolean {
  if (error.code && (unavailableCodes.has(error.code) || error.code.startsWith("08"))) return true;
  return /timeout exceeded when trying to connect|Connection terminated|connection error|Client has encountered a connection error/i.test(
    error.message ?? "",
  );
}

type ValidationError = NonNullable<FastifyError["validation"]>[number];

/** The field a schema failure names, dotted: `retry_policy.custom.0`. */
function fieldOf(failure: ValidationError): string {
  const params = failure.params as Record<string, unknown>;
  const path = failure.instancePath.split("/").filter(Boolean);
  const named = params.missingProperty ?? params.additionalProperty ?? params.propertyName;
  // A name the client made up is echoed, but not at any length.
  const name = typeof named === "string" && named.length > 64 ? `${named.slice(0, 64)}…` : named;
  return [...path, ...(typeof name === "string" ? [name] : [])].join(".");
}

function validationProblem(failures: ValidationError[], where: string): Problem {
  // Ajv reports every branch of a union before the union itself: the deepest failure says most.
  const failure = failures.reduce((best, f) =>
    fieldOf(f).split(".").length > fieldOf(best).split(".").length ? f : best,
  );
  const params = failure.params as Record<string, unknown>;
  const field = fieldOf(failure) || undefined;
  const at = `${where}${field ? `.${field}` : ""}`;
  const detail = params.additionalProperty
    ? `${where}: unknown field "${field}"`
    : Array.isArray(params.allowedValues)
      ? `${at}: must be one of ${params.allowedValues.join(", ")}`
      : `${at}: ${failure.message ?? "is invalid"}`;
  return new HttpProblem("validation", detail, field).problem;
}

/** Maps whatever a route threw to its problem; only a genuine bug becomes a 500. */
export function toProblem(error: FastifyError & { code?: string }, request: FastifyRequest): Problem {
  if (error instanceof HttpProblem) return error.problem;
  if (error.validation) return validationProblem(error.validation, error.validationContext ?? "body");
  const mapped: Record<string, [ProblemKind, string]> = {
    FST_ERR_CTP_BODY_TOO_LARGE: ["payload_too_large", "The request body exceeds the size limit."],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: [
      "unsupported_media_type",
      "Send JSON with content-type: application/json.",
    ],
    FST_ERR_CTP_EMPTY_JSON_BODY: ["malformed_json", "The request body is empty; send a JSON object."],
    FST_ERR_CTP_INVALID_JSON_BODY: ["malformed_json", "The request body is not valid JSON."],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["validation", "The content-length header does not match the body."],
    FST_ERR_BAD_URL: ["validation", "The request path is not valid percent-encoded UTF-8."],
  };
  const known = error.code ? mapped[error.code] : undefined;
  if (known) return new HttpProblem(known[0], known[1]).problem;
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new HttpProblem("malformed_json", "The request body is not valid JSON.").problem;
  }
  if (isUnavailable(error))
    return new HttpProblem("service_unavailable", "The database is unreachable; retry shortly.").problem;
  // Postgres refused a value (a NUL character, an out-of-range number): the client's input.
  if (error.code?.startsWith("22"))
    return new HttpProblem("validation", "A value in the request cannot be stored.").problem;
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      type: "urn:herald:problem:http",
      title: error.name,
      status: error.statusCode,
      detail: error.message,
    };
  }
  request.log.error({ err: error }, "unhandled error");
  return new HttpProblem("internal", "Something went wrong on our side; the request id is in the logs.")
    .problem;
}
