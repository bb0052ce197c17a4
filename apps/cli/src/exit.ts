import { HeraldApiError, HeraldConnectionError } from "@herald/sdk";

/**
 * Exit codes scripts can branch on. 1 is left to Node's own crashes (a bug here), so every
 * outcome the CLI expects has its own number.
 */
export const exitCodes = {
  ok: 0,
  usage: 2,
  unreachable: 3,
  refused: 4,
  unavailable: 5,
  verificationFailed: 6,
  incomplete: 7,
} as const;

export class UsageError extends Error {}

/** A result that is not an error of the CLI but still not a success (a failed check, a stopped operation). */
export class Outcome extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

export function codeFor(error: unknown): number {
  if (error instanceof Outcome) return error.code;
  if (error instanceof UsageError) return exitCodes.usage;
  if (error instanceof HeraldConnectionError) return exitCodes.unreachable;
  if (error instanceof HeraldApiError) return error.status >= 500 ? exitCodes.unavailable : exitCodes.refused;
  return 1;
}
