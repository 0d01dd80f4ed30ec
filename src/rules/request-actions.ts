/**
 * Request actions: `redirect`, `deny`, `rewrite` and request header edits, decided at the edge
 * before the cache key is built. Their schemas and the pure planner live here; src/edge turns a
 * plan into a Response or a changed Request.
 *
 * Open redirects: a location template is either path-absolute (`/new${path}`: the answer stays on
 * the request's own origin and is sent as a relative reference, so the client's Host is never
 * echoed) or an absolute URL whose scheme and authority are literal (`https://www.example.com${path}`).
 * Placeholders (`${path}`, `${query}`) come from the parsed request URL only, never from a header.
 * Validation refuses templates that could leave that origin (a leading placeholder, `//`, `/\`,
 * a placeholder inside the authority); at run time the interpolated location is parsed again and
 * refused (400) unless its origin is the one the template names, it has no control characters,
 * and it is at most MAX_LOCATION_BYTES long (414 beyond).
 */
import * as z from "zod";

/** Longest Location the edge sends; a longer one (a huge request path) is answered 414 instead. */
export const MAX_LOCATION_LENGTH = 8192;
/** Longest `deny` body. */
export const MAX_DENY_BODY_LENGTH = 65_536;

export type LocationPart = { kind: "literal"; text: string } | { kind: "path" } | { kind: "query" };

/** A parsed location (or rewrite path) template; `origin` is the literal origin of an absolute one, null for path-absolute. */
export interface LocationTemplate {
  parts: LocationPart[];
  origin: string | null;
}

/** C0 controls and DEL (CR, LF, NUL, …): never part of a location or a header value. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Splits `${path}` / `${query}` placeholders from literal text, or returns why the template is invalid. */
function parseParts(template: string): LocationPart[] | string {
  const parts: LocationPart[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("${", i);
    if (open === -1) {
      parts.push({ kind: "literal", text: template.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: "literal", text: template.slice(i, open) });
    const close = template.indexOf("}", open);
    if (close === -1) return `unterminated placeholder at offset ${open}`;
    const name = template.slice(open + 2, close);
    if (name !== "path" && name !== "query") return `unknown placeholder \${${name}} (only \${path} and \${query}: nothing from headers or Host)`;
    parts.push({ kind: name });
    i = close + 1;
  }
  return parts;
}

/**
 * Parses a template that must stay on one origin. `absolute`: whether `https://host/…` is allowed
 * (redirects) or only a path (rewrites).
 */
export function parseLocationTemplate(template: string, absolute: boolean): LocationTemplate | string {
  if (hasControl(template)) return "control characters (CR, LF, NUL, …) are not allowed";
  if (template.includes("\\")) return "backslashes are not allowed (browsers read \\ as / in URLs)";
  const parts = parseParts(template);
  if (typeof parts === "string") return parts;
  const first = parts[0];
  const lead = first?.kind === "literal" ? first.text : "";
  if (lead.startsWith("/")) {
    // "//x" and "/${path}" (a path that starts with "/") would be read as another host.
    const alone = parts.length === 1;
    if ((lead.length < 2 && !alone) || lead[1] === "/") return 'a path template must start with "/" and one literal character that is not "/" (e.g. "/new${path}")';
    return { parts, origin: null };
  }
  if (!absolute) return 'a rewrite path must start with "/" and one literal character that is not "/"';
  const authority = /^(https?):\/\/([^/?#]+)(.*)$/is.exec(lead);
  // The authority must be written out and end where the literal says: at "/", "?" or "#", or right
  // before ${path} (which always starts with "/"). "https://host${query}x" could end elsewhere.
  const endsAuthority = authority !== null && (authority[3] !== "" ? /^[/?#]/.test(authority[3]!) : parts[1] === undefined || parts[1].kind === "path");
  if (authority === null || !endsAuthority) return 'expected a path ("/new${path}") or an absolute http(s) URL with its host written out ("https://www.example.com${path}", "https://www.example.com/new${path}")';
  let origin: string;
  try {
    const url = new URL(`${authority[1]}://${authority[2]}/`);
    if (url.username !== "" || url.password !== "") return "credentials in a redirect URL are not allowed";
    origin = url.origin;
  } catch {
    return `invalid host in ${authority[1]}://${authority[2]}`;
  }
  return { parts, origin };
}

const templateSchema = (absolute: boolean) =>
  z
    .string()
    .min(1)
    .max(2048)
    .superRefine((template, ctx) => {
      const parsed = parseLocationTemplate(template, absolute);
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `invalid ${absolute ? "location" : "path"} template: ${parsed}` });
    });

const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "not a valid header name");
/** Fields a rule may not set or remove: framing, the target, and the cluster's own. */
const PROTECTED_REQUEST_FIELDS = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "cookie2"]);
const editableRequestHeader = headerName.refine((name) => !PROTECTED_REQUEST_FIELDS.has(name.toLowerCase()) && !name.toLowerCase().startsWith("x-cluster-"), {
  message: "this request field cannot be changed by a rule (framing, Host — use rewrite.host — and X-Cluster-* are the cache's own)",
});
const headerValue = z
  .string()
  .max(8192)
  .regex(/^[^\r\n\0]*$/, "header values cannot contain CR, LF or NUL");

export const redirectSchema = z.strictObject({
  status: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)], { error: "expected 301, 302, 303, 307 or 308" }).default(302),
  location: templateSchema(true).describe(
    'Where to: "/new${path}${query}" (same origin, sent as a relative reference) or "https://www.example.com/${path}" (that origin only). Placeholders: ${path} (the request path, percent-encoded) and ${query} ("?…" or empty). Nothing from headers or Host.',
  ),
});

export const denySchema = z.strictObject({
  status: z.number().int().min(400).max(599).default(403),
  body: z.string().max(MAX_DENY_BODY_LENGTH).default("Forbidden\n").describe("Sent as is (never interpolated)."),
  contentType: headerValue.default("text/plain; charset=utf-8"),
});

export const rewriteSchema = z
  .strictObject({
    path: templateSchema(false).optional().describe('New request path, e.g. "/v2${path}"; ${path} and ${query} as for redirects. The query string is kept.'),
    host: z
      .string()
      .regex(/^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/, "expected a host name (no scheme, port or path)")
      .optional()
      .describe("New Host for the origin and the cache key."),
  })
  .refine((r) => r.path !== undefined || r.host !== undefined, "rewrite needs path or host");

export const requestHeaderEditsSchema = {
  setRequestHeaders: z.record(editableRequestHeader, headerValue).optional().describe("Request headers set before the cache key is built and the request goes on (after removals)."),
  removeRequestHeaders: z.array(editableRequestHeader).optional().describe("Request headers removed before the cache key is built and the request goes on."),
};

export type Redirect = z.output<typeof redirectSchema>;
export type Deny = z.output<typeof denySchema>;
export type Rewrite = z.output<typeof rewriteSchema>;

/** What the request actions do with one request. */
export type RequestPlan =
  | { kind: "respond"; status: number; headers: Record<string, string>; body: string | null; detail: "rule-redirect" | "rule-deny" | "rule-refused" }
  | { kind: "forward"; url: string | null; set: Record<string, string> | null; remove: readonly string[] | null };

/** Parsed templates by source (config patterns: a bounded set), so a request never parses one. */
const parsedTemplates = new Map<string, LocationTemplate>();
const MAX_PARSED_TEMPLATES = 1024;

function parsedTemplate(source: string, absolute: boolean): LocationTemplate | null {
  const key = `${absolute ? "a" : "p"}${source}`;
  let template = parsedTemplates.get(key);
  if (template === undefined) {
    const parsed = parseLocationTemplate(source, absolute);
    if (typeof parsed === "string") return null; // validation refused it already; never reached for a valid config
    if (parsedTemplates.size >= MAX_PARSED_TEMPLATES) parsedTemplates.clear();
    parsedTemplates.set(key, (template = parsed));
  }
  return template;
}

/** The request-action part of a rule's actions (what `planRequest` reads). */
export interface RequestActions {
  redirect?: Redirect;
  deny?: Deny;
  rewrite?: Rewrite;
  setRequestHeaders?: Record<string, string>;
  removeRequestHeaders?: string[];
}

/**
 * What a rule's request actions do with a request for `request.url`: answer it (deny first, then
 * redirect) or forward it changed (rewrite, header edits); null when the rule has none. The URL is
 * read only by a redirect or a rewrite (the edge parses it lazily: src/edge/rule-request.ts).
 */
export function planRequest(actions: Readonly<RequestActions>, request: { readonly url: URL }): RequestPlan | null {
  if (actions.deny !== undefined) {
    return { kind: "respond", status: actions.deny.status, headers: { "content-type": actions.deny.contentType, "cache-control": "no-store" }, body: actions.deny.body, detail: "rule-deny" };
  }
  if (actions.redirect !== undefined) {
    const template = parsedTemplate(actions.redirect.location, true);
    const target = template === null ? ({ ok: false, status: 400, reason: "invalid template" } as const) : redirectLocation(template, request.url);
    if (!target.ok) return { kind: "respond", status: target.status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }, body: `Redirect refused: ${target.reason}\n`, detail: "rule-refused" };
    return { kind: "respond", status: actions.redirect.status, headers: { location: target.location, "cache-control": "no-store" }, body: null, detail: "rule-redirect" };
  }
  const { rewrite, setRequestHeaders, removeRequestHeaders } = actions;
  if (rewrite === undefined && setRequestHeaders === undefined && removeRequestHeaders === undefined) return null;
  let target: string | null = null;
  if (rewrite !== undefined) {
    const template = rewrite.path === undefined ? null : parsedTemplate(rewrite.path, false);
    const rewritten = rewrite.path !== undefined && template === null ? null : rewrittenUrl(template, rewrite.host, request.url);
    if (rewritten === null) return { kind: "respond", status: 400, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }, body: "Rewrite refused\n", detail: "rule-refused" };
    target = rewritten.href;
  }
  return { kind: "forward", url: target, set: setRequestHeaders ?? null, remove: removeRequestHeaders ?? null };
}

function interpolate(template: LocationTemplate, url: URL): string {
  let out = "";
  for (const part of template.parts) out += part.kind === "literal" ? part.text : part.kind === "path" ? url.pathname : url.search;
  return out;
}

/**
 * The location a redirect sends for `url`, or why it refuses: the result is parsed again, must stay
 * on the template's origin (the request's own for a path template) and be short enough.
 */
export function redirectLocation(template: LocationTemplate, url: URL): { ok: true; location: string } | { ok: false; status: 400 | 414; reason: string } {
  const raw = interpolate(template, url);
  if (raw.length > MAX_LOCATION_LENGTH) return { ok: false, status: 414, reason: `location would be ${raw.length} characters (at most ${MAX_LOCATION_LENGTH})` };
  if (hasControl(raw) || raw.includes("\\")) return { ok: false, status: 400, reason: "location would contain a control character or a backslash" };
  let target: URL;
  try {
    target = new URL(raw, url);
  } catch {
    return { ok: false, status: 400, reason: "location would not be a URL" };
  }
  if (template.origin === null) {
    // Sent as a relative reference: it must not read as "//host" (a network-path reference, RFC 3986 §4.2).
    const relative = `${target.pathname}${target.search}${target.hash}`;
    if (target.origin !== url.origin || !relative.startsWith("/") || relative.startsWith("//")) return { ok: false, status: 400, reason: "location would leave this origin" };
    return { ok: true, location: relative };
  }
  if (target.origin !== template.origin || target.username !== "" || target.password !== "") return { ok: false, status: 400, reason: `location would leave ${template.origin}` };
  return { ok: true, location: target.href };
}

/** The rewritten URL (path and/or host), or null when the rewrite cannot be applied safely. */
export function rewrittenUrl(template: LocationTemplate | null, host: string | undefined, url: URL): URL | null {
  const out = new URL(url.href);
  if (host !== undefined) out.hostname = host;
  if (template !== null) {
    const path = interpolate(template, url);
    if (path.length > MAX_LOCATION_LENGTH || hasControl(path)) return null;
    const parsed = new URL(path, out);
    if (parsed.origin !== out.origin || parsed.pathname.startsWith("//")) return null;
    out.pathname = parsed.pathname;
    if (template.parts.some((p) => p.kind === "query") || parsed.search !== "") out.search = parsed.search;
  }
  return out;
}
