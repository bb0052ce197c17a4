import { type EnvelopeShape, standardEnvelope } from "./envelope.ts";
import { type Mode, modes } from "./modes.ts";
import type { SuccessRule } from "./outcome.ts";
import { customPolicyProblem, type RetryPolicy } from "./retry.ts";
import type { SignatureScheme } from "./signing.ts";

/**
 * A delivery profile: one provider's webhook dialect, so one deployment can speak several. The
 * endpoint's profile (its own, else its merchant's, else `default`) decides the body's shape, the
 * hex signature header, what counts as success at send time, and, when an endpoint is registered,
 * its default scheme, retry policy and timeout and whether its URL may be http.
 */
export interface DeliveryProfile {
  name: string;
  description: string;
  envelope: EnvelopeShape;
  /** The scheme new endpoints get when they name none. */
  signature_scheme: SignatureScheme;
  /** The header the hex schemes sign in (lower case). `standard` always uses `webhook-signature`. */
  signature_header: string;
  success_rule: SuccessRule;
  /** The retry policy new endpoints get when they name none, by mode. */
  retry_policy: { live: RetryPolicy; test: RetryPolicy };
  /** Whether an endpoint of that mode may have an http URL. Live is always https (SPEC §4). */
  allow_http: { live: boolean; test: boolean };
  /** The timeout new endpoints get when they name none. */
  timeout_ms: number;
}

/** The stored part of a profile: everything but its name. */
export type ProfileSettings = Omit<DeliveryProfile, "name">;

export const defaultProfileName = "default";

/**
 * The built-in profile: how Herald delivered before profiles existed, with the two deployment
 * settings that used to be global (`HERALD_SIGNATURE_HEADER`, `HERALD_SUCCESS_STATUS`).
 */
export function defaultProfile(settings: {
  signatureHeader: string;
  successStatus: SuccessRule;
}): DeliveryProfile {
  return {
    name: defaultProfileName,
    description: "Herald's own dialect; header and success rule from the deployment's environment.",
    envelope: standardEnvelope,
    signature_scheme: "standard",
    signature_header: settings.signatureHeader.toLowerCase(),
    success_rule: settings.successStatus,
    retry_policy: { live: "live", test: "test" },
    allow_http: { live: false, test: true },
    timeout_ms: 15000,
  };
}

/**
 * A profile as stored (name and settings), or `fallback` (the default) when there is none. A stored
 * profile missing a setting (written before that setting existed) takes the default's.
 */
export function effectiveProfile(
  name: string | null | undefined,
  settings: unknown,
  fallback: DeliveryProfile,
): DeliveryProfile {
  if (!name) return fallback;
  const stored = settings as Partial<ProfileSettings>;
  return {
    ...fallback,
    ...stored,
    name,
    envelope: { ...fallback.envelope, ...stored.envelope },
    retry_policy: { ...fallback.retry_policy, ...stored.retry_policy },
    allow_http: { ...fallback.allow_http, ...stored.allow_http },
  };
}

/** Names the envelope cannot give its type field: they are taken by the other fields. */
const takenFields = new Set(["id", "created_at", "data"]);

/**
 * The rules a JSON schema cannot state, checked on a whole profile. Answers the first problem with
 * the field it is about (dotted), or null.
 */
export function profileProblem(profile: ProfileSettings): { field: string; detail: string } | null {
  if (takenFields.has(profile.envelope.type_field))
    return {
      field: "envelope.type_field",
      detail: `envelope.type_field cannot be "${profile.envelope.type_field}": that field is already in the envelope.`,
    };
  if (profile.allow_http.live)
    return {
      field: "allow_http.live",
      detail: "allow_http.live must be false: live-mode endpoints are always https.",
    };
  for (const mode of modes) {
    const policy = profile.retry_policy[mode];
    if (typeof policy === "object") {
      const problem = customPolicyProblem(policy.custom);
      if (problem)
        return { field: `retry_policy.${mode}`, detail: `retry_policy.${mode}.custom ${problem}.` };
    }
  }
  return null;
}

/** Why `url` may not be used by an endpoint of `mode` under `profile`, or null. */
export function profileUrlProblem(profile: DeliveryProfile, url: string, mode: Mode): string | null {
  if (profile.allow_http[mode] || !/^http:/i.test(url)) return null;
  return `must use https: the ${profile.name} profile does not deliver to http URLs in ${mode} mode`;
}
