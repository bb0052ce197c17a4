import { expect } from "vitest";
import { WebhookVerificationError } from "../src/index.ts";

/** Why `promise` was refused: it must reject with a `WebhookVerificationError`. */
export async function reason(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).reason;
}
