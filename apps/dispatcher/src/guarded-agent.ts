import type { LookupAddress } from "node:dns";
import { isIP, type LookupFunction, type Socket } from "node:net";
import { blockedReason, type Cidr } from "@herald/core";
import { Agent, buildConnector } from "undici";
import { DnsCache } from "./dns.ts";

/** A delivery was refused because the address it would connect to is internal. */
export class BlockedTargetError extends Error {
  readonly code = "BLOCKED_TARGET";
  readonly address: string;
  readonly reason: string;

  constructor(address: string, reason: string, hostname: string) {
    const via = hostname === address ? "" : ` (resolved from ${hostname})`;
    super(`refusing to connect to ${address}${via}: ${reason} address`);
    this.name = "BlockedTargetError";
    this.address = address;
    this.reason = reason;
  }
}

/** Whether `error`, or anything in its `cause` chain, is a refusal by the guard. */
export function isBlockedTarget(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof BlockedTargetError) return true;
  }
  return false;
}

export interface GuardedAgentOptions {
  /** Ranges exempt from the block list (`HERALD_ALLOWED_CIDRS`). */
  allowed: readonly Cidr[];
  /** Where names are looked up (c-ares, cached); a default one if not given. */
  dns?: DnsCache;
  connections?: number;
  pipelining?: number;
  keepAliveTimeout?: number;
}

/**
 * An undici Agent that refuses, at connect time, to open a socket to an internal address.
 *
 * Checking the URL up front is not enough: a name can resolve to a public address when the URL is
 * validated and to 127.0.0.1 when the delivery runs (DNS rebinding). So the check sits in the
 * connector, on the address the socket is about to use. `net.connect` skips `lookup` for IP
 * literals, hence the two paths: literals are checked before connecting, names inside `lookup`.
 * undici follows no redirects unless asked, so a 3xx cannot lead elsewhere.
 */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const { allowed, dns = new DnsCache(), ...pool } = options;
  const connectSocket = buildConnector({ lookup: guardedLookup(allowed, dns) });

  const connect: buildConnector.connector = (target, callback) => {
    const refusal =
      isIP(target.hostname) === 0 ? null : refusalFor(target.hostname, target.hostname, allowed);
    if (refusal) {
      queueMicrotask(() => callback(refusal, null));
      return;
    }
    connectSocket(target, (error, socket) => {
      if (error) return callback(error, null);
      const peer = peerRefusal(socket, target.hostname, allowed);
      if (!peer) return callback(null, socket);
      socket.destroy();
      callback(peer, null);
    });
  };

  return new Agent({ ...pool, connect });
}

function refusalFor(address: string, hostname: string, allowed: readonly Cidr[]): BlockedTargetError | null {
  const reason = blockedReason(address, allowed);
  return reason === null ? null : new BlockedTargetError(address, reason, hostname);
}

/**
 * Belt and braces: should some path ever reach `net` without going through the checks above, the
 * socket is dropped on connect, before undici writes a byte of the request.
 */
function peerRefusal(socket: Socket, hostname: string, allowed: readonly Cidr[]): BlockedTargetError | null {
  const peer = socket.remoteAddress;
  return peer === undefined ? null : refusalFor(peer, hostname, allowed);
}

/**
 * A lookup through `dns` (c-ares, never libuv's thread pool), refusing the name outright if any
 * address it resolves to is blocked. Dropping only the bad addresses would hide a name that points inside, and `net` (happy eyeballs) may try
 * any of the addresses it is given.
 */
function guardedLookup(allowed: readonly Cidr[], dns: DnsCache): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (found: LookupAddress[]) => {
      const refusal = firstRefusal(found, hostname, allowed);
      if (refusal) return callback(refusal, []);
      const addresses = options.family ? found.filter((a) => a.family === options.family) : found;
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    };
    dns.lookup(hostname).then(answer, (error: NodeJS.ErrnoException) => callback(error, []));
  };
}

function firstRefusal(
  addresses: readonly LookupAddress[],
  hostname: string,
  allowed: readonly Cidr[],
): BlockedTargetError | null {
  for (const { address } of addresses) {
    const refusal = refusalFor(address, hostname, allowed);
    if (refusal) return refusal;
  }
  return null;
}
