import { openSecret } from "@herald/core";
import type { AttemptContext } from "@herald/db";

/** Decrypted secrets per endpoint version, so a busy endpoint is not decrypted on every attempt. */
export class SecretCache {
  readonly #key: Buffer;
  readonly #cache = new Map<string, { version: number; secrets: { plain: string; expires: number }[] }>();

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** The endpoint's secrets still valid at `now`. Throws when one cannot be decrypted (wrong key). */
  open(endpoint: AttemptContext, now: Date): string[] {
    const version = endpoint.endpoint_updated_at.getTime();
    let entry = this.#cache.get(endpoint.endpoint_id);
    if (!entry || entry.version !== version) {
      if (this.#cache.size > 10_000) this.#cache.clear();
      entry = {
        version,
        secrets: endpoint.secrets.map((s) => ({
          plain: openSecret(this.#key, s.secret),
          expires: s.expires_at ? Date.parse(s.expires_at) : Number.POSITIVE_INFINITY,
        })),
      };
      this.#cache.set(endpoint.endpoint_id, entry);
    }
    return entry.secrets.filter((s) => s.expires > now.getTime()).map((s) => s.plain);
  }
}
