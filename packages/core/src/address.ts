import ipaddr from "ipaddr.js";

/**
 * Which IP addresses a delivery may connect to. Pure: callers resolve names themselves and ask
 * about each address they would actually connect to.
 *
 * Addresses are handled as byte arrays, 4 bytes for IPv4 and 16 for IPv6. An IPv4-mapped IPv6
 * address (`::ffff:a.b.c.d`) is collapsed to its 4 IPv4 bytes everywhere, in ranges and addresses
 * alike, because the kernel connects it to that IPv4 host: it must get the IPv4 verdict.
 */
export interface Cidr {
  /** The network address: 4 bytes for IPv4, 16 for IPv6. */
  readonly bytes: readonly number[];
  readonly prefix: number;
  /** Canonical `address/prefix`, for logs. */
  readonly text: string;
}

type Bytes = readonly number[];

const mappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * Parses `HERALD_ALLOWED_CIDRS`-style lists: comma-separated, whitespace around entries ignored.
 * A bare address is a single host. Throws on the first entry that is not a range.
 */
export function parseCidrs(list: string, source = "HERALD_ALLOWED_CIDRS"): Cidr[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const cidr = parseCidr(entry);
      if (!cidr) throw new Error(`${source}: "${entry}" is not a CIDR range`);
      return cidr;
    });
}

/**
 * Null when a connection to `address` is acceptable, else why not. `address` is an IP literal as
 * `node:net` and `node:dns` present it; the allow list overrides every block.
 */
export function blockedReason(address: string, allowed: readonly Cidr[]): string | null {
  const bytes = parseAddress(address);
  if (!bytes) return "invalid";
  if (allowed.some((range) => covers(range, bytes))) return null;
  return bytes.length === 4 ? ipv4Reason(bytes) : ipv6Reason(bytes);
}

/**
 * The IP address a URL hostname denotes, normalized, or null when it is a name to resolve.
 * Accepts `new URL(...).hostname` (IPv6 in brackets) and also bare IPv6 and the numeric IPv4
 * spellings `inet_aton` understands (`127.1`, `0x7f.1`, `2130706433`), which the WHATWG parser
 * normalizes only for special schemes.
 */
export function literalAddress(hostname: string): string | null {
  const unbracketed = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (unbracketed.includes(":")) {
    const bytes = parseIpv6(unbracketed);
    return bytes ? ipaddr.fromByteArray([...bytes]).toString() : null;
  }
  const bytes = parseIpv4(unbracketed.replace(/\.$/, ""));
  return bytes ? bytes.join(".") : null;
}

interface Rule {
  readonly range: Cidr;
  readonly reason: string;
}

function rules(table: ReadonlyArray<readonly [string, string]>): Rule[] {
  return table.map(([range, reason]) => ({ range: knownCidr(range), reason }));
}

// First match wins, so the metadata hosts come before the wider ranges that contain them.
const ipv4Rules = rules([
  ["169.254.169.254/32", "metadata"], // AWS, GCP, Azure, OCI, DigitalOcean…
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud
  ["0.0.0.0/32", "unspecified"], // Linux connects it to the local host
  ["0.0.0.0/8", "reserved"],
  ["127.0.0.0/8", "loopback"],
  ["10.0.0.0/8", "private"],
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["169.254.0.0/16", "link-local"],
  ["100.64.0.0/10", "cgnat"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "reserved"], // documentation
  ["198.51.100.0/24", "reserved"], // documentation
  ["203.0.113.0/24", "reserved"], // documentation
  ["198.18.0.0/15", "reserved"], // benchmarking
  ["192.88.99.0/24", "reserved"], // 6to4 relay anycast, deprecated
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // includes the 255.255.255.255 broadcast
]);

const ipv6Rules = rules([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["fd00:ec2::254/128", "metadata"], // AWS over IPv6
  ["2001::/23", "reserved"], // IETF protocol assignments, Teredo, benchmarking
  ["2001:db8::/32", "reserved"], // documentation
  ["3fff::/20", "reserved"], // documentation
  ["fc00::/7", "unique-local"],
  ["fe80::/10", "link-local"],
  ["ff00::/8", "multicast"],
]);

// Only 2000::/3 is allocated for global unicast; the rest (site-local fec0::/10, discard 100::/64,
// local-use NAT64 64:ff9b:1::/48, SRv6 5f00::/16, unassigned space) has no business receiving webhooks.
const globalUnicast = knownCidr("2000::/3");

interface Ipv4Carrier {
  readonly range: Cidr;
  /** Where the 4 IPv4 bytes start. */
  readonly offset: number;
  /** The verdict when the embedded IPv4 address is itself acceptable. */
  readonly otherwise: string | null;
}

// These IPv6 forms end up at the IPv4 host they embed, so that host's verdict applies.
const ipv4Carriers: readonly Ipv4Carrier[] = [
  { range: knownCidr("::/96"), offset: 12, otherwise: "reserved" }, // IPv4-compatible, deprecated
  { range: knownCidr("64:ff9b::/96"), offset: 12, otherwise: null }, // NAT64: real IPv6-only networks use it
  { range: knownCidr("2002::/16"), offset: 2, otherwise: null }, // 6to4
];

function ipv4Reason(bytes: Bytes): string | null {
  return ipv4Rules.find((rule) => covers(rule.range, bytes))?.reason ?? null;
}

function ipv6Reason(bytes: Bytes): string | null {
  const rule = ipv6Rules.find((candidate) => covers(candidate.range, bytes));
  if (rule) return rule.reason;
  const carrier = ipv4Carriers.find((candidate) => covers(candidate.range, bytes));
  if (carrier) return ipv4Reason(bytes.slice(carrier.offset, carrier.offset + 4)) ?? carrier.otherwise;
  return covers(globalUnicast, bytes) ? null : "reserved";
}

function covers(range: Cidr, bytes: Bytes): boolean {
  if (range.bytes.length !== bytes.length) return false;
  for (let index = 0, bits = range.prefix; bits > 0; index++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((range.bytes[index] ?? 0) & mask) !== ((bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

function parseCidr(entry: string): Cidr | null {
  const match = /^([^/]+?)(?:\/(\d{1,3}))?$/.exec(entry);
  if (!match?.[1]) return null;
  // Allow-list entries are configuration, so only the plain dotted-quad spelling of IPv4 is taken.
  const raw = match[1].includes(":") ? parseIpv6(match[1]) : strictIpv4(match[1]);
  if (!raw) return null;
  const width = raw.length * 8;
  const prefix = match[2] === undefined ? width : Number(match[2]);
  if (prefix > width) return null;
  const [bytes, collapsedPrefix] =
    isMapped(raw) && prefix >= 96 ? [raw.slice(12), prefix - 96] : [raw, prefix];
  return {
    bytes,
    prefix: collapsedPrefix,
    text: `${ipaddr.fromByteArray([...bytes]).toString()}/${collapsedPrefix}`,
  };
}

function knownCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`built-in range "${text}" does not parse`);
  return cidr;
}

function parseAddress(address: string): Bytes | null {
  const bytes = address.includes(":") ? parseIpv6(address) : parseIpv4(address);
  if (!bytes) return null;
  return isMapped(bytes) ? bytes.slice(12) : bytes;
}

function isMapped(bytes: Bytes): boolean {
  return bytes.length === 16 && mappedPrefix.every((byte, index) => bytes[index] === byte);
}

/** Every IPv4 spelling `inet_aton` accepts (octal, hex, fewer than four parts), as getaddrinfo does. */
function parseIpv4(text: string): Bytes | null {
  return ipaddr.IPv4.isValid(text) ? ipaddr.IPv4.parse(text).toByteArray() : null;
}

function strictIpv4(text: string): Bytes | null {
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text).toByteArray() : null;
}

function parseIpv6(text: string): Bytes | null {
  // The zone (`fe80::1%eth0`) picks an interface; it does not change what kind of address it is.
  const hex = hexTail(text.replace(/%[^%]*$/, ""));
  if (hex === null || !/^[0-9a-f:]+$/i.test(hex) || !ipaddr.IPv6.isValid(hex)) return null;
  return ipaddr.IPv6.parse(hex).toByteArray();
}

/**
 * Rewrites a dotted IPv4 tail as two hex groups. ipaddr.js reads `::a.b.c.d` as IPv4-mapped
 * (`::ffff:a.b.c.d`), but it is the IPv4-compatible address `::a.b.c.d`, a different one.
 */
function hexTail(text: string): string | null {
  const match = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return text.includes(".") ? null : text;
  const octets = match.slice(2).map(Number);
  if (octets.some((octet) => octet > 255)) return null;
  const [a = 0, b = 0, c = 0, d = 0] = octets;
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}
