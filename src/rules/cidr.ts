/**
 * IP address and CIDR parsing for the `clientIp` rule condition: IPv4 and IPv6 (with `::`
 * compression and an embedded IPv4 tail), compiled to four 32-bit words so a membership test is
 * a few integer compares and never allocates.
 */

/** A parsed CIDR range: `words` is the masked network address, `masks` the prefix mask, both as 4 × uint32. */
export interface Cidr {
  /** IPv4 ranges (and IPv4-mapped IPv6 ranges) are stored as v4 so mapped client addresses match them. */
  v4: boolean;
  words: Uint32Array;
  masks: Uint32Array;
  prefix: number;
}

/** Parses an IPv4 dotted quad into `out[3]` (words 0–2 zero); false when malformed. */
function parseV4Into(text: string, out: Uint32Array, word: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused: some stacks read "010" as octal, so its meaning is ambiguous.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return false;
    const n = Number(part);
    if (n > 255) return false;
    value = value * 256 + n;
  }
  out[word] = value >>> 0;
  return true;
}

function parseHexGroups(text: string, groups: number[]): boolean {
  if (text === "") return true;
  for (const group of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
    groups.push(parseInt(group, 16));
  }
  return true;
}

/** Parses an IPv6 address into 4 words; false when malformed. */
function parseV6Into(text: string, out: Uint32Array): boolean {
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".", lastColon)) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two 16-bit groups: rewrite it as them.
    const v4 = new Uint32Array(4);
    if (!parseV4Into(body.slice(lastColon + 1), v4, 3)) return false;
    body = `${body.slice(0, lastColon + 1)}${(v4[3]! >>> 16).toString(16)}:${(v4[3]! & 0xffff).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const head: number[] = [];
  const rest: number[] = [];
  if (!parseHexGroups(halves[0]!, head)) return false;
  if (halves.length === 2 && !parseHexGroups(halves[1]!, rest)) return false;
  if (halves.length === 1) {
    if (head.length !== 8) return false;
  } else if (head.length + rest.length > 7) {
    return false;
  }
  const groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return true;
}

/** True for ::ffff:a.b.c.d, the form dual-stack sockets report IPv4 clients in. */
function isV4Mapped(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * Parses an IP address into `out` (4 words; IPv4 in word 3 with words 0–2 zero) and returns its
 * family, or null when malformed. IPv4-mapped IPv6 addresses are reported as "v4". A zone id
 * (`%eth0`) is ignored.
 */
export function parseIpInto(text: string, out: Uint32Array): "v4" | "v6" | null {
  out.fill(0);
  if (text.includes(":")) {
    const zone = text.indexOf("%");
    if (!parseV6Into(zone === -1 ? text : text.slice(0, zone), out)) return null;
    if (!isV4Mapped(out)) return "v6";
    out[2] = 0;
    return "v4";
  }
  return parseV4Into(text, out, 3) ? "v4" : null;
}

function maskWords(prefix: number): Uint32Array {
  const masks = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    masks[i] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  }
  return masks;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128); the reason text on failure. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  if (address.includes("%")) return `"${text}" has a zone id, which a CIDR cannot carry`;
  const family = parseIpInto(address, words);
  if (family === null) return `"${address}" is not an IPv4 or IPv6 address`;
  const written = address.includes(":") ? 128 : 32;
  const lengthText = slash === -1 ? String(written) : text.slice(slash + 1);
  if (!/^(?:0|[1-9]\d{0,2})$/.test(lengthText) || Number(lengthText) > written) {
    return `"${lengthText}" is not a prefix length from 0 to ${written}`;
  }
  // A mapped range ::ffff:a.b.c.d/n (n ≥ 96) is the IPv4 range a.b.c.d/(n-96).
  let prefix = Number(lengthText);
  if (family === "v4" && written === 128) {
    if (prefix < 96) return `"${text}" spans more than the IPv4-mapped range; write it as an IPv4 CIDR`;
    prefix -= 96;
  }
  const wordPrefix = family === "v4" ? prefix + 96 : prefix;
  const masks = maskWords(wordPrefix);
  for (let i = 0; i < 4; i++) {
    if ((words[i]! & masks[i]!) >>> 0 !== words[i]) {
      return `"${text}" has host bits set beyond the /${prefix} prefix`;
    }
  }
  return { v4: family === "v4", words, masks, prefix };
}

/** Whether a parsed address (from `parseIpInto`) lies in the range. */
export function cidrContains(cidr: Cidr, family: "v4" | "v6", words: Uint32Array): boolean {
  if (cidr.v4 !== (family === "v4")) return false;
  for (let i = cidr.v4 ? 3 : 0; i < 4; i++) {
    if ((words[i]! & cidr.masks[i]!) >>> 0 !== cidr.words[i]) return false;
  }
  return true;
}
