/**
 * What a request carries past the edge: the unkeyed request headers of `settings.unkeyedRequestHeaders`
 * removed (unless the matched rule keys them), and the forwarding fields written by the edge from what
 * the platform knows (the target it received, the client address Cloudflare reports), never copied
 * from the client. RFC 7239 `Forwarded` and the X-Forwarded-* pair say the same thing.
 */
import type { CacheKeySpec } from "../rules/schema";
import { clientFieldStays } from "../serve/internal-headers";
import { parseTemplate } from "../rules/template";

const NO_SPEC: CacheKeySpec = {};
/** Per cache-key spec (a config version's object): the spec is the same for every request its rule matches. */
const keyedBySpec = new WeakMap<CacheKeySpec, ReadonlySet<string>>();
/** Per unkeyed list and keyed set (both a config version's): the names to drop, lower-case. */
const droppedBy = new WeakMap<readonly string[], WeakMap<ReadonlySet<string>, ReadonlySet<string>>>();

/**
 * Header names a cache-key spec puts in the key (lower-case): those may travel on, the key tells their
 * values apart. Built once per spec (the set is shared: never change it).
 */
export function keyedHeaderNames(spec: CacheKeySpec | undefined): ReadonlySet<string> {
  const key = spec ?? NO_SPEC;
  let names = keyedBySpec.get(key);
  if (names === undefined) keyedBySpec.set(key, (names = keyedNamesOf(spec)));
  return names;
}

function keyedNamesOf(spec: CacheKeySpec | undefined): Set<string> {
  const names = new Set<string>(spec?.headers?.map((name) => name.toLowerCase()) ?? []);
  if (spec?.custom !== undefined) {
    const parts = parseTemplate(spec.custom);
    if (typeof parts !== "string") for (const part of parts) if (part.kind === "header") names.add(part.name);
  }
  return names;
}

/** RFC 7239 §4: a node, or a quoted-string when it holds characters a token cannot (IPv6, ports). */
function forwardedValue(value: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** RFC 7239 §4 field value for this hop: `for` (when the platform knows the client), `host`, `proto`. */
export function forwardedField(url: URL, clientIp: string | null): string {
  const ip = clientIp === null ? null : clientIp.includes(":") ? `[${clientIp}]` : clientIp;
  const pairs = [...(ip === null ? [] : [`for=${forwardedValue(ip)}`]), `host=${forwardedValue(url.host)}`, `proto=${url.protocol.slice(0, -1)}`];
  return pairs.join(";");
}

export interface ForwardingOptions {
  unkeyed: readonly string[];
  keyed: ReadonlySet<string>;
  clientIp: string | null;
  /** Whether the client carried the cluster token (its X-Cluster-* fields, but the token, then travel on). */
  trusted: boolean;
}

/** The unkeyed names that are not keyed, lower-case: what leaves the request. */
function droppedNames(unkeyed: readonly string[], keyed: ReadonlySet<string>): ReadonlySet<string> {
  let byKeyed = droppedBy.get(unkeyed);
  if (byKeyed === undefined) droppedBy.set(unkeyed, (byKeyed = new WeakMap()));
  let dropped = byKeyed.get(keyed);
  if (dropped === undefined) byKeyed.set(keyed, (dropped = new Set(unkeyed.map((name) => name.toLowerCase()).filter((name) => !keyed.has(name)))));
  return dropped;
}

/**
 * `request` as the shard and the origin may see it: the client's internal fields removed unless it is
 * trusted (`clientFieldStays`: the one pass over its field names the edge makes, here, where the
 * request leaves), only the unkeyed fields it carries deleted (a request has a handful of fields, the
 * unkeyed list is longer), and the forwarding fields the edge's own.
 */
export function requestForUpstream(request: Request, opts: ForwardingOptions): Request {
  const dropped = droppedNames(opts.unkeyed, opts.keyed);
  const headers = new Headers(request.headers);
  // Header iteration yields lower-case names.
  for (const name of request.headers.keys()) if (dropped.has(name) || clientFieldStays(name, opts.trusted)) headers.delete(name);
  const url = new URL(request.url);
  headers.set("forwarded", forwardedField(url, opts.clientIp));
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
  return new Request(request, { headers });
}
