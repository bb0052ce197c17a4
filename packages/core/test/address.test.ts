import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockedReason, literalAddress, parseCidrs } from "../src/address.ts";

/** What a delivery to `http://<host>/` would be checked against, the way the guard sees it. */
function verdictForUrlHost(host: string, allowed = parseCidrs("")): string | null {
  const address = literalAddress(new URL(`http://${host}/`).hostname);
  if (address === null) throw new Error(`${host} is not an IP literal`);
  return blockedReason(address, allowed);
}

describe("blockedReason via URL hosts", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["2130706433", "loopback"],
    ["0177.0.0.1", "loopback"],
    ["0x7f.0.0.1", "loopback"],
    ["0x7f.1", "loopback"],
    ["127.1", "loopback"],
    ["[::1]", "loopback"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[::ffff:7f00:1]", "loopback"],
    ["[::127.0.0.1]", "loopback"],
    ["[64:ff9b::127.0.0.1]", "loopback"],
    ["[64:ff9b::10.1.2.3]", "private"],
    ["[2002:a00:1::]", "private"],
    ["[2002:7f00:1::1]", "loopback"],
    ["[2002:a9fe:a9fe::]", "metadata"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["3232235777", "private"],
    ["[::ffff:192.168.1.1]", "private"],
    ["169.254.0.1", "link-local"],
    ["[fe80::1]", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["[fc00::1]", "unique-local"],
    ["[fd12:3456::1]", "unique-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["[ff02::1]", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["0", "unspecified"],
    ["[::]", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["192.88.99.1", "reserved"],
    ["[2001:db8::1]", "reserved"],
    ["[2001::1]", "reserved"],
    ["[fec0::1]", "reserved"],
    ["[100::1]", "reserved"],
    ["[::8.8.8.8]", "reserved"],
    ["169.254.169.254", "metadata"],
    ["0xa9fea9fe", "metadata"],
    ["[::ffff:169.254.169.254]", "metadata"],
    ["[fd00:ec2::254]", "metadata"],
    ["100.100.100.200", "metadata"],
  ])("refuses %s (%s)", (host, reason) => {
    expect(verdictForUrlHost(host)).toBe(reason);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "198.20.0.1",
    "[2606:4700::1111]",
    "[2001:4860:4860::8888]",
    "[::ffff:8.8.8.8]",
    "[64:ff9b::8.8.8.8]",
    "[2002:808:808::1]",
  ])("allows public %s", (host) => {
    expect(verdictForUrlHost(host)).toBeNull();
  });
});

describe("blockedReason on addresses as node:net and node:dns give them", () => {
  it("ignores an IPv6 zone when classifying", () => {
    expect(blockedReason("fe80::1%eth0", [])).toBe("link-local");
  });

  it.each(["", "localhost", "[::1]", "1.2.3.4.5", "256.0.0.1", "::1::2", "1.2.3.4/32", "::ffff:300.0.0.1"])(
    "calls %j invalid",
    (address) => {
      expect(blockedReason(address, [])).toBe("invalid");
    },
  );
});

describe("literalAddress", () => {
  it.each([
    ["[::ffff:127.0.0.1]", "::ffff:7f00:1"],
    ["[0:0:0:0:0:0:0:1]", "::1"],
    ["::1", "::1"],
    ["127.0.0.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
  ])("reads %s as %s", (hostname, address) => {
    expect(literalAddress(hostname)).toBe(address);
  });

  it.each(["example.com", "localhost", "127.0.0.1.nip.io", "[not-an-ip]", "1.2.3.4.5"])(
    "leaves the name %s to DNS",
    (hostname) => {
      expect(literalAddress(hostname)).toBeNull();
    },
  );
});

describe("allow list", () => {
  const loopbackHost = parseCidrs("127.0.0.1/32");

  it("exempts exactly the listed range", () => {
    expect(blockedReason("127.0.0.1", loopbackHost)).toBeNull();
    expect(blockedReason("127.0.0.2", loopbackHost)).toBe("loopback");
    expect(blockedReason("::1", loopbackHost)).toBe("loopback");
  });

  it("checks an IPv4-mapped address as its IPv4 form", () => {
    expect(blockedReason("::ffff:127.0.0.1", loopbackHost)).toBeNull();
    expect(blockedReason("::ffff:7f00:2", loopbackHost)).toBe("loopback");
  });

  it("reads an IPv4-mapped entry as the IPv4 range", () => {
    const mapped = parseCidrs("::ffff:10.0.0.0/104");
    expect(blockedReason("10.9.8.7", mapped)).toBeNull();
    expect(blockedReason("::ffff:10.9.8.7", mapped)).toBeNull();
    expect(blockedReason("11.0.0.1", mapped)).toBeNull();
    expect(blockedReason("192.168.0.1", mapped)).toBe("private");
  });

  it("takes IPv6 ranges", () => {
    const ula = parseCidrs("fd00:1234::/32, ::1");
    expect(blockedReason("fd00:1234:5::1", ula)).toBeNull();
    expect(blockedReason("fd00:1235::1", ula)).toBe("unique-local");
    expect(blockedReason("::1", ula)).toBeNull();
  });

  it("overrides even metadata when an operator lists it", () => {
    expect(blockedReason("169.254.169.254", parseCidrs("169.254.0.0/16"))).toBeNull();
  });
});

describe("parseCidrs", () => {
  it("parses a whitespace-tolerant list", () => {
    expect(parseCidrs(" 127.0.0.1/32 , ::1/128,10.0.0.0/8 ").map((cidr) => cidr.text)).toEqual([
      "127.0.0.1/32",
      "::1/128",
      "10.0.0.0/8",
    ]);
  });

  it("reads an empty list as no exceptions", () => {
    expect(parseCidrs("")).toEqual([]);
    expect(parseCidrs("  ")).toEqual([]);
  });

  it("reads a bare address as a single host", () => {
    expect(parseCidrs("192.168.1.5,fd00::5").map((cidr) => cidr.text)).toEqual([
      "192.168.1.5/32",
      "fd00::5/128",
    ]);
  });

  it.each([
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/",
    "10.0.0/8",
    "0x0a.0.0.0/8",
    "2130706433",
    "example.com",
    "10.0.0.0/8/8",
    "10.0.0.0/-1",
  ])("rejects %s, naming it", (entry) => {
    expect(() => parseCidrs(`127.0.0.1/32,${entry}`)).toThrow(
      `HERALD_ALLOWED_CIDRS: "${entry}" is not a CIDR range`,
    );
  });
});

describe("properties", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const ipv4 = fc.tuple(octet, octet, octet, octet).map((octets) => octets.join("."));
  const hex16 = (high: number, low: number) => ((high << 8) | low).toString(16);
  const ipv4Parts = (address: string) => address.split(".").map(Number) as [number, number, number, number];

  it("blocks every address in 10.0.0.0/8", () => {
    fc.assert(
      fc.property(octet, octet, octet, (b, c, d) => {
        expect(blockedReason(`10.${b}.${c}.${d}`, [])).toBe("private");
      }),
    );
  });

  it("gives every IPv4-mapped form the verdict of its IPv4 form, allow list included", () => {
    const allowLists = fc.constantFrom(
      "",
      "127.0.0.1/32",
      "10.0.0.0/8,::1",
      "0.0.0.0/0",
      "::ffff:192.168.0.0/112",
    );
    fc.assert(
      fc.property(ipv4, allowLists, (address, list) => {
        const allowed = parseCidrs(list);
        const [a, b, c, d] = ipv4Parts(address);
        const verdict = blockedReason(address, allowed);
        expect(blockedReason(`::ffff:${address}`, allowed)).toBe(verdict);
        expect(blockedReason(`::ffff:${hex16(a, b)}:${hex16(c, d)}`, allowed)).toBe(verdict);
        expect(blockedReason(`0:0:0:0:0:ffff:${address}`, allowed)).toBe(verdict);
      }),
    );
  });

  it("blocks NAT64 and 6to4 forms of every blocked IPv4 address", () => {
    fc.assert(
      fc.property(ipv4, (address) => {
        const reason = blockedReason(address, []);
        const [a, b, c, d] = ipv4Parts(address);
        expect(blockedReason(`64:ff9b::${address}`, [])).toBe(reason);
        expect(blockedReason(`2002:${hex16(a, b)}:${hex16(c, d)}::1`, [])).toBe(reason);
      }),
    );
  });

  it("reads every decimal and hex spelling of an IPv4 address the way URL does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const dotted = [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
        expect(literalAddress(new URL(`http://${value}/`).hostname)).toBe(dotted);
        expect(literalAddress(`0x${value.toString(16)}`)).toBe(dotted);
      }),
    );
  });

  it("lets a single-host allow entry through and nothing next to it", () => {
    fc.assert(
      fc.property(ipv4, (address) => {
        const [a, b, c, d] = ipv4Parts(address);
        const neighbour = [a, b, c, d ^ 1].join(".");
        const allowed = parseCidrs(address);
        expect(blockedReason(address, allowed)).toBeNull();
        expect(blockedReason(neighbour, allowed)).toBe(blockedReason(neighbour, []));
      }),
    );
  });
});
