/**
 * Owns which response header fields a cache keeps (RFC 9111 §3.1), how a stored header list becomes
 * `Headers` again, and the Age field on what is served (RFC 9111 §4, §5.1).
 */
import type { EpochMillis } from "../lib/units";
import { currentAgeSeconds } from "./age";
import type { StoredMeta } from "./types";

/**
 * The one list of fields that belong to a single connection or hop: never forwarded to the origin,
 * never stored, never taken from a 304 (every path asks `isHopByHop`).
 * - RFC 9110 §7.6.1: Connection itself, and the fields known to need removal before forwarding:
 *   Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade.
 * - RFC 9111 §3.1: the fields specific to the proxy a cache forwards through ("effectively, this is
 *   limited to" Proxy-Authenticate, Proxy-Authentication-Info and Proxy-Authorization).
 * - Trailer: it announces trailer fields of a chunked message; the body is re-framed with its length
 *   and sent without trailers (RFC 9112 §6.1), so the announcement would be false.
 * Fields the Connection header names are hop-by-hop too (`connectionListed`).
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authentication-info", "proxy-authorization", "trailer"]);

/** Lower-case names of every field the Connection header lists. */
export function connectionListed(headers: Headers): Set<string> {
  const value = headers.get("connection");
  return new Set(
    value === null
      ? []
      : value
          .split(",")
          .map((s) => s.trim().toLowerCase())
          .filter((s) => s !== ""),
  );
}

/** Is `name` hop-by-hop: on the list above, or named by the message's Connection field (`listed`)? */
export function isHopByHop(name: string, listed: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || listed.has(lower);
}

/** Copy of `headers` without its hop-by-hop fields (RFC 9110 §7.6.1): what an intermediary forwards. */
export function withoutHopByHop(headers: Headers): Headers {
  const listed = connectionListed(headers);
  const out = new Headers(headers);
  for (const name of HOP_BY_HOP) out.delete(name);
  for (const name of listed) out.delete(name);
  return out;
}

/**
 * The header list a cache stores: lower-case names, hop-by-hop and `stripped` fields removed (RFC 9111
 * §5.2.2.4 no-cache="…", §5.2.2.7 private="…"), and Age removed (it is recomputed on every serve).
 */
export function storableHeaderList(headers: Headers, stripped: readonly string[]): [string, string][] {
  const listed = connectionListed(headers);
  const drop = new Set([...stripped.map((s) => s.toLowerCase()), "age"]);
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!isHopByHop(lower, listed) && !drop.has(lower)) out.push([lower, value]);
  });
  return out;
}

/** Stored list → Headers, keeping repeated fields (e.g. several Set-Cookie) apart. */
export function headersFromList(list: readonly (readonly [string, string])[]): Headers {
  const headers = new Headers();
  for (const [name, value] of list) headers.append(name, value);
  return headers;
}

/** First stored value of a field (lower-case name), or null. */
export function storedHeader(meta: Pick<StoredMeta, "headers">, name: string): string | null {
  const found = meta.headers.find(([n]) => n === name);
  return found === undefined ? null : found[1];
}

/** RFC 9111 §4: a response served from cache without validation carries the current Age (§4.2.3). */
export function headersForServe(meta: StoredMeta, now: EpochMillis): Headers {
  const headers = headersFromList(meta.headers);
  headers.set("age", String(currentAgeSeconds(meta, now)));
  return headers;
}
