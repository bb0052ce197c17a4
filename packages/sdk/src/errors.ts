import type { Problem } from "./types.gen.ts";

export type ProblemBody = Problem;

/** Every error the SDK throws. */
export class HeraldError extends Error {
  override name = "HeraldError";
}

/**
 * Herald answered with a problem (RFC 9457). `kind` is the end of its `type`
 * (`urn:herald:problem:validation` → `validation`); `field` names the request field at fault.
 */
export class HeraldApiError extends HeraldError {
  override name = "HeraldApiError";
  readonly status: number;
  readonly type: string;
  readonly kind: string;
  readonly title: string;
  readonly detail: string;
  readonly field: string | undefined;
  /** Herald's `x-request-id`, to find the request in its logs. */
  readonly requestId: string | undefined;

  constructor(problem: ProblemBody, status: number, requestId?: string) {
    super(`${problem.title ?? "Error"} (${status}): ${problem.detail ?? ""}`);
    this.status = status;
    this.type = problem.type;
    this.kind = problem.type.split(":").at(-1) ?? problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.field = problem.field;
    this.requestId = requestId;
  }
}

/** No answer from Herald: the connection failed. Safe calls were already retried. */
export class HeraldConnectionError extends HeraldError {
  override name = "HeraldConnectionError";
}

/** No answer from Herald within the timeout. */
export class HeraldTimeoutError extends HeraldConnectionError {
  override name = "HeraldTimeoutError";
}
