import { BlockList, isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, parseCidr, parseIpInto, type Cidr } from "../../../src/rules/cidr";

function words(text: string): { family: "v4" | "v6" | null; words: number[] } {
  const out = new Uint32Array(4);
  const family = parseIpInto(text, out);
  return { family, words: [...out] };
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

const contains = (range: string, ip: string): boolean => {
  const out = new Uint32Array(4);
  const family = parseIpInto(ip, out);
  return family !== null && cidrContains(cidr(range), family, out);
};

describe("parseIpInto", () => {
  it("parses IPv4 and IPv6 forms into words", () => {
    expect(words("1.2.3.4")).toEqual({ family: "v4", words: [0, 0, 0, 0x01020304] });
    expect(words("::1")).toEqual({ family: "v6", words: [0, 0, 0, 1] });
    expect(words("2001:db8::8:800:200c:417a")).toEqual({ family: "v6", words: [0x20010db8, 0, 0x00080800, 0x200c417a] });
    expect(words("1::")).toEqual({ family: "v6", words: [0x00010000, 0, 0, 0] });
    expect(words("64:ff9b::192.0.2.33")).toEqual({ family: "v6", words: [0x0064ff9b, 0, 0, 0xc0000221] });
    expect(words("::ffff:192.0.2.33")).toEqual({ family: "v4", words: [0, 0, 0, 0xc0000221] });
  });
  it("refuses malformed addresses", () => {
    for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "12345::", "::g", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4"]) {
      expect(words(bad).family, bad).toBeNull();
    }
  });
  it("accepts exactly the address texts Node accepts (property)", () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const address = fc
      .array(group, { minLength: 8, maxLength: 8 })
      .chain((groups) => fc.integer({ min: 0, max: 8 }).chain((start) => fc.integer({ min: start, max: 8 }).map((end) => (end - start >= 2 ? `${groups.slice(0, start).join(":")}::${groups.slice(end).join(":")}` : groups.join(":")))));
    fc.assert(
      // Valid compressed forms, and near-miss strings over the same alphabet (mostly invalid).
      fc.property(fc.oneof(address, fc.string({ unit: fc.constantFrom(..."0123456789abcdef:."), maxLength: 45 })), (text) => {
        expect(words(text).family === null).toBe(isIP(text) === 0);
      }),
    );
  });
});

describe("parseCidr", () => {
  it("refuses host bits, bad prefixes, zones and broad mapped ranges with a reason", () => {
    expect(parseCidr("10.0.0.1/8")).toMatch(/host bits/);
    expect(parseCidr("10.0.0.0/33")).toMatch(/prefix length/);
    expect(parseCidr("10.0.0.0/")).toMatch(/prefix length/);
    expect(parseCidr("2001:db8::/129")).toMatch(/prefix length/);
    expect(parseCidr("fe80::%eth0/64")).toMatch(/zone/);
    expect(parseCidr("::ffff:0:0/95")).toMatch(/IPv4-mapped/);
    expect(parseCidr("example.com/8")).toMatch(/not an IPv4 or IPv6/);
  });
  it("treats an IPv4-mapped range as the IPv4 range", () => {
    expect(contains("::ffff:10.0.0.0/104", "10.9.9.9")).toBe(true);
    expect(contains("::ffff:10.0.0.0/104", "11.0.0.0")).toBe(false);
  });
  it("agrees with Node's BlockList on IPv4 and IPv6 membership (property)", () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }));
    fc.assert(
      fc.property(v4, ([net, ip, prefix]) => {
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
        const base = dotted((net & mask) >>> 0);
        // Half the time the address is inside the range, so both outcomes are exercised.
        const address = dotted(ip % 2 === 0 ? ((net & mask) | (ip & ~mask)) >>> 0 : ip);
        const list = new BlockList();
        list.addSubnet(base, prefix, "ipv4");
        expect(contains(`${base}/${prefix}`, address)).toBe(list.check(address, "ipv4"));
      }),
    );
    const groups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, groups, fc.integer({ min: 0, max: 128 }), fc.boolean(), (net, ip, prefix, inside) => {
        const masked = net.map((g, i) => g & (((0xffff << (16 - Math.max(0, Math.min(16, prefix - 16 * i)))) & 0xffff) >>> 0));
        const address = inside ? masked.map((g, i) => g | (ip[i]! & ~(((0xffff << (16 - Math.max(0, Math.min(16, prefix - 16 * i)))) & 0xffff) >>> 0) & 0xffff)) : ip;
        const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
        // Node treats ::ffff:0:0/96 addresses as IPv4; keep the property to genuine IPv6 ranges.
        fc.pre(!(masked.slice(0, 5).every((g) => g === 0) && masked[5] === 0xffff) && !(address.slice(0, 5).every((g) => g === 0) && address[5] === 0xffff));
        const list = new BlockList();
        list.addSubnet(hex(masked), prefix, "ipv6");
        expect(contains(`${hex(masked)}/${prefix}`, hex(address))).toBe(list.check(hex(address), "ipv6"));
      }),
    );
  });
});
