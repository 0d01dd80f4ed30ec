/**
 * What a request carries past the edge: the unkeyed request headers of `settings.unkeyedRequestHeaders`
 * removed (unless the matched rule keys them), and the forwarding fields written by the edge from what
 * the platform knows (the target it received, the client address Cloudflare reports), never copied
 * from the client. RFC 7239 `Forwarded` and the X-Forwarded-* pair say the same thing.
 */
import type { CacheKeySpec } from "../rules/schema";
import { parseTemplate } from "../rules/template";

/** Header names a cache-key spec puts in the key (lower-case): those may travel on, the key tells their values apart. */
export function keyedHeaderNames(spec: CacheKeySpec | undefined): Set<string> {
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
}

/** `request` as the shard and the origin may see it. */
export function requestForUpstream(request: Request, opts: ForwardingOptions): Request {
  const headers = new Headers(request.headers);
  for (const name of opts.unkeyed) if (!opts.keyed.has(name.toLowerCase())) headers.delete(name);
  const url = new URL(request.url);
  headers.set("forwarded", forwardedField(url, opts.clientIp));
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
  return new Request(request, { headers });
}
