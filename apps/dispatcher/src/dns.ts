import type { LookupAddress } from "node:dns";
import { Resolver } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";

/** A lookup that did not answer within the attempt's time. */
export class DnsTimeoutError extends Error {
  readonly code = "EDNSTIMEOUT";
  constructor(hostname: string) {
    super(`DNS lookup of ${hostname} did not answer within the attempt's timeout`);
    this.name = "DnsTimeoutError";
  }
}

// Answers are kept at most this long (or their TTL, if shorter), and at least this short a while so
// a busy endpoint is not looked up on every attempt.
const maxTtlMs = 60_000;
const minTtlMs = 1_000;
// A name that does not exist is remembered briefly too: a merchant's typo costs one query a second.
const negativeTtlMs = 5_000;
const maxEntries = 10_000;
// How long an IPv6 answer is waited for once the IPv4 one is in.
const aaaaGraceMs = 50;

function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: "fulfilled", value }) as const,
    (reason: unknown) => ({ status: "rejected", reason }) as const,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Entry {
  until: number;
  addresses?: LookupAddress[];
  error?: Error;
}

/**
 * Host name lookups for deliveries, on c-ares (`dns.Resolver`) rather than `dns.lookup`: the latter
 * runs getaddrinfo on libuv's 4-thread pool, so a few dozen names whose nameserver never answers
 * would block every other lookup, and file access, for every tenant. c-ares queries cost a socket,
 * not a thread. Answers are cached for their TTL (capped), concurrent lookups of a name share one
 * query, and every caller waits at most its own remaining time. `/etc/hosts` is read once at start
 * (c-ares does not consult it), and `localhost` names are loopback (RFC 6761).
 */
export class DnsCache {
  readonly #resolver: Resolver;
  readonly #cache = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<LookupAddress[]>>();
  readonly #hosts: Map<string, LookupAddress[]>;

  constructor(options: { servers?: readonly string[]; timeoutMs?: number; hostsFile?: string } = {}) {
    // One try with its own timeout: the attempt's deadline bounds the wait anyway.
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 });
    if (options.servers && options.servers.length > 0) this.#resolver.setServers([...options.servers]);
    this.#hosts = readHosts(options.hostsFile ?? "/etc/hosts");
  }

  /** The addresses of `hostname`, or throws (code ENOTFOUND, or EDNSTIMEOUT once `signal` aborts). */
  async lookup(hostname: string, signal?: AbortSignal): Promise<LookupAddress[]> {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    if (isIP(name)) return [{ address: name, family: isIP(name) }];
    const fixed = this.#hosts.get(name) ?? localhost(name);
    if (fixed) return fixed;
    const cached = this.#cache.get(name);
    if (cached && cached.until > Date.now()) {
      if (cached.error) throw cached.error;
      return cached.addresses!;
    }
    let query = this.#pending.get(name);
    if (!query) {
      query = this.#query(name).finally(() => this.#pending.delete(name));
      this.#pending.set(name, query);
    }
    if (!signal) return query;
    if (signal.aborted) throw new DnsTimeoutError(hostname);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new DnsTimeoutError(hostname));
      signal.addEventListener("abort", onAbort, { once: true });
      query.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  async #query(name: string): Promise<LookupAddress[]> {
    const asked4 = settle(this.#resolver.resolve4(name, { ttl: true }));
    const asked6 = settle(this.#resolver.resolve6(name, { ttl: true }));
    const v4 = await asked4;
    // With IPv4 addresses in hand, a nameserver slow to answer for IPv6 does not hold the attempt.
    const v6 =
      v4.status === "fulfilled" && v4.value.length > 0
        ? await Promise.race([
            asked6,
            sleep(aaaaGraceMs).then(() => ({ status: "rejected", reason: undefined }) as const),
          ])
        : await asked6;
    const addresses: LookupAddress[] = [];
    let ttl = maxTtlMs;
    for (const [answer, family] of [
      [v4, 4],
      [v6, 6],
    ] as const) {
      if (answer.status !== "fulfilled") continue;
      for (const record of answer.value) {
        addresses.push({ address: record.address, family });
        ttl = Math.min(ttl, record.ttl * 1000);
      }
    }
    if (this.#cache.size >= maxEntries) this.#cache.clear();
    if (addresses.length === 0) {
      const reason = v4.status === "rejected" ? v4.reason : v6.status === "rejected" ? v6.reason : undefined;
      const code = (reason as { code?: string } | undefined)?.code ?? "ENOTFOUND";
      const error = Object.assign(new Error(`DNS lookup of ${name} failed: ${code}`), { code });
      // A timeout is not remembered: the next attempt asks again.
      if (code !== "ETIMEOUT") this.#cache.set(name, { until: Date.now() + negativeTtlMs, error });
      throw error;
    }
    this.#cache.set(name, { until: Date.now() + Math.max(minTtlMs, ttl), addresses });
    return addresses;
  }
}

function localhost(name: string): LookupAddress[] | undefined {
  if (name !== "localhost" && !name.endsWith(".localhost")) return undefined;
  return [
    { address: "127.0.0.1", family: 4 },
    { address: "::1", family: 6 },
  ];
}

function readHosts(path: string): Map<string, LookupAddress[]> {
  const hosts = new Map<string, LookupAddress[]>();
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return hosts;
  }
  for (const line of text.split("\n")) {
    const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || !isIP(address)) continue;
    for (const name of names) {
      const key = name.toLowerCase();
      hosts.set(key, [...(hosts.get(key) ?? []), { address, family: isIP(address) }]);
    }
  }
  return hosts;
}
