export type { HeraldOptions, OperationId, RequestOptions } from "./client.ts";
export { HeraldApiError, HeraldConnectionError, HeraldError, HeraldTimeoutError } from "./errors.ts";
export { type EmitOptions, Herald } from "./herald.ts";
export type * from "./types.gen.ts";
