import type { Config } from "@herald/config";
import { defaultProfile, defaultProfileName, effectiveProfile } from "@herald/core";
import { type Db, getProfile } from "@herald/db";
import { Type } from "typebox";

// How merchants, endpoints and the profiles resource name a delivery profile, and what a name
// resolves to.

/** A profile's name, as merchants and endpoints refer to it. */
export const ProfileName = Type.String({
  pattern: "^[a-z0-9][a-z0-9_-]{0,62}$",
  description: "Lower-case letters, digits, `-` and `_`; `default` is the built-in profile.",
});

/**
 * The profile called `name` (null or `default`: the built-in one); undefined when no such profile
 * is stored. Merchants and endpoints resolve theirs through this.
 */
export async function findProfile(db: Db, config: Config, name: string | null | undefined) {
  const fallback = defaultProfile(config);
  if (!name || name === defaultProfileName) return fallback;
  const stored = await getProfile(db, name);
  return stored ? effectiveProfile(stored.name, stored.settings, fallback) : undefined;
}

/** The stored name for a profile the API was given: `default` is stored as none. */
export const storedProfileName = (name: string | null) => (name === defaultProfileName ? null : name);
