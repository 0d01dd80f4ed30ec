/**
 * Cache keys: the primary key under which a response is stored. The default key is the scheme,
 * host, path (normalised before the key is built: src/lib/request-target.ts) and the query parameters
 * sorted by name, so `?b=1&a=2` and `?a=2&b=1` share an entry (repeated names keep their order);
 * a rule's `cacheKey` spec narrows the query and adds request headers and cookies to it.
 *
 * Key format with a spec: `scheme://host/path?sorted-query` then `#h:name=value` per header and
 * `#c:name=value` per cookie (names sorted, names and values percent-encoded, `#h:name` alone when
 * the request lacks it). `#` separates components because the URL serialiser never leaves a raw
 * `#` in a host, path or query — unlike `|`, which is legal raw in a path, so `/a|h:x=1` could pose
 * as `/a` plus a header. Keys therefore never collide unless every included component is equal.
 *
 * A `custom` template replaces the key: `scheme://` + the expanded template. The scheme stays so
 * http and https never share an entry (an origin's http→https redirect must not be served on https).
 * Query, header and cookie values are percent-encoded in it and absent ones expand to "";
 * distinctness of a custom key is the template author's choice (e.g. `${host}${path}` drops the query).
 */
import { normaliseRequestUrl } from "../lib/request-target";
import type { RuleResult } from "./compile";
import { parseCookies } from "./cookies";
import type { CompiledRules, RuleRequest } from "./match";
import type { CacheKeySpec } from "./schema";
import { parseTemplate, type TemplatePart } from "./template";

type Pair = [string, string];

const byName = ([a]: Pair, [b]: Pair): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Parameters sorted by name; a repeated name keeps its values in the order the client sent them
 * (Array.prototype.sort is stable). Sorting by value too would let `?v=evil&v=good` share the entry
 * of `?v=good&v=evil`, which an origin reading the first value answers differently.
 */
function queryString(params: Pair[]): string {
  return params.length === 0 ? "" : "?" + new URLSearchParams(params.sort(byName)).toString();
}

/** The default primary cache key for a request URL. */
export function defaultCacheKey(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${selectedQuery(url, undefined)}`;
}

function selectedQuery(url: URL, query: CacheKeySpec["query"]): string {
  // No query: nothing to sort (and no URLSearchParams to build, on every hit of a plain URL).
  if (query === "ignore" || url.search === "") return "";
  if (query === undefined) return queryString([...url.searchParams]);
  if ("include" in query) {
    const include = new Set(query.include);
    return queryString([...url.searchParams].filter(([name]) => include.has(name)));
  }
  const exclude = new Set(query.exclude);
  return queryString([...url.searchParams].filter(([name]) => !exclude.has(name)));
}

const sortedUnique = (names: readonly string[]): string[] => [...new Set(names)].sort();

function component(tag: "h" | "c", name: string, value: string | null | undefined): string {
  const head = `#${tag}:${encodeURIComponent(name)}`;
  return value === null || value === undefined ? head : `${head}=${encodeURIComponent(value)}`;
}

/** Parsed templates by text; configs hold few templates, the bound only guards against churn. */
const templates = new Map<string, TemplatePart[]>();

function templateParts(template: string): TemplatePart[] {
  let parts = templates.get(template);
  if (parts === undefined) {
    const parsed = parseTemplate(template);
    // The schema refuses invalid templates, so this is a programmer error.
    if (typeof parsed === "string") throw new Error(`invalid cache-key template "${template}": ${parsed}`);
    if (templates.size >= 256) templates.clear();
    templates.set(template, (parts = parsed));
  }
  return parts;
}

function customKey(req: RuleRequest, template: string): string {
  let key = `${req.url.protocol}//`;
  let cookies: Map<string, string> | null = null;
  for (const part of templateParts(template)) {
    switch (part.kind) {
      case "literal":
        key += part.text;
        break;
      case "host":
        key += req.url.host;
        break;
      case "path":
        key += req.url.pathname;
        break;
      case "method":
        key += req.method;
        break;
      case "query":
        key += encodeURIComponent(req.url.searchParams.get(part.name) ?? "");
        break;
      case "header":
        key += encodeURIComponent(req.headers.get(part.name) ?? "");
        break;
      case "cookie":
        cookies ??= parseCookies(req.headers.get("cookie"));
        key += encodeURIComponent(cookies.get(part.name) ?? "");
        break;
    }
  }
  return key;
}

/** The primary cache key for a request under a rule's cache-key spec (the default key when there is none). */
export function cacheKeyFor(req: RuleRequest, spec: CacheKeySpec | undefined): string {
  if (spec === undefined) return defaultCacheKey(req.url);
  if (spec.custom !== undefined) return customKey(req, spec.custom);
  const { url } = req;
  let key = `${url.protocol}//${url.host}${url.pathname}${selectedQuery(url, spec.query)}`;
  if (spec.headers !== undefined) {
    for (const name of sortedUnique(spec.headers.map((h) => h.toLowerCase()))) key += component("h", name, req.headers.get(name));
  }
  if (spec.cookies !== undefined && spec.cookies.length > 0) {
    const cookies = parseCookies(req.headers.get("cookie"));
    for (const name of sortedUnique(spec.cookies)) key += component("c", name, cookies.get(name));
  }
  return key;
}

/** Whether the key under `spec` is built from the method and target alone (no request field or cookie in it). */
export function keyReadsOnlyTarget(spec: CacheKeySpec | undefined): boolean {
  if (spec === undefined) return true;
  if (spec.custom !== undefined) return templateParts(spec.custom).every((part) => part.kind !== "header" && part.kind !== "cookie");
  return (spec.headers === undefined || spec.headers.length === 0) && (spec.cookies === undefined || spec.cookies.length === 0);
}

/** What, besides method and URL, the rules and the key may read of a request (a purge has none of it). */
export type RequestTraits = Pick<RuleRequest, "headers" | "clientIp" | "country">;

/** No headers, no address, no country: a plain GET as an operator names it (purge by URL). */
export const PLAIN_GET: Readonly<RequestTraits & { headers: Headers }> = Object.freeze({ headers: new Headers(), clientIp: null, country: null });

/**
 * The cache key a GET of `url` has under `rules`, and the rule it matches: the one answer to "which
 * entry is this URL" for invalidation (RFC 9111 §4.4), POST adoption (RFC 9110 §9.3.3) and purge by
 * URL. The URL goes through the same normalisation as an incoming request's target (parsed,
 * serialised, src/lib/request-target.ts), so a Location of `/%7Ea/./b` names the entry a client's
 * `/~a/b` is stored under.
 */
export function cacheKeyOfGet(url: string | URL, traits: RequestTraits, rules: CompiledRules): { key: string; rule: RuleResult } {
  const asGet: RuleRequest = { method: "GET", url: new URL(normaliseRequestUrl(new URL(url).href)), headers: traits.headers, clientIp: traits.clientIp, country: traits.country };
  const rule = rules.evaluate(asGet);
  return { key: cacheKeyFor(asGet, rule.actions.cacheKey), rule };
}
