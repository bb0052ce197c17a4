export { expressWebhook, fastifyWebhook, refusal, verifyRequest } from "./adapters.ts";
export {
  type EventOf,
  type HeaderSource,
  type HeraldEvent,
  parseEvent,
  type RawBody,
  type SignatureScheme,
  type VerificationFailure,
  type VerifyOptions,
  verify,
  WebhookVerificationError,
} from "./verify.ts";
