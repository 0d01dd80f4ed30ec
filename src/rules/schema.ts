/**
 * The cache-rule schema: one zod definition per rule part, strict everywhere so a misspelt key is
 * an error rather than a silently ignored condition; the TypeScript types are inferred from it.
 */
import * as z from "zod";
import { linearRegexSchema } from "../lib/linear-regex";
import { STORE_SET_COOKIE_DESCRIPTION, storeSetCookieSchema } from "../config/set-cookie";
import { parseCidr } from "./cidr";
import { parseTemplate } from "./template";
import { valueConditionSchema } from "./value-condition";
import { denySchema, redirectSchema, requestHeaderEditsSchema, rewriteSchema } from "./request-actions";
import { RESPONSE_ACTIONS, responseActionsShape, responseMatchSchema } from "./response-schema";

/** One value, or a non-empty list of them (any one may match). */
const oneOrMany = <T extends z.ZodType>(item: T, what: string) => z.union([item, z.array(item).min(1)], { error: `expected ${what} or a non-empty array of them` });

/** RFC 9110 token: the characters a header (or cookie) name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerName = z.string().regex(TOKEN, "not a valid header name");
const cookieName = z.string().regex(TOKEN, "not a valid cookie name");
const queryName = z.string().min(1, "query parameter names cannot be empty");

const nameSchema = z.string().min(1).max(128);

const seconds = z.number().int("expected whole seconds").min(0).max(31_536_000);

/** Lower-case labels, optionally led by `*.` (any subdomain, at any depth); no port. */
export const hostPatternSchema = z.string().regex(/^(?:\*\.)?(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/, 'expected a host name or "*.domain" (no scheme, port or path)');

const globSchema = z.string().regex(/^\//, "path globs start with /");
/** A path regex: RE2 syntax, matched in linear time (src/lib/linear-regex.ts). */
const regexSchema = linearRegexSchema;

/** A path condition: a glob (`*` within a segment, `**` across segments, `?` one character) or a regex on the URL path. */
export const pathMatchSchema = z.union([globSchema, z.strictObject({ glob: globSchema }), z.strictObject({ regex: regexSchema })], {
  error: 'expected a glob string, { "glob": "/…" } or { "regex": "…" }',
});

/** A condition on a query parameter, header or cookie value (src/rules/value-condition.ts); a plain string still means an exact match. */
export const presenceSchema = valueConditionSchema;

/** The states of an SLM class (src/slm/window.ts), as a rule may name them. */
export const SLM_STATES = ["ok", "warning", "serious"] as const;
export type SlmStateName = (typeof SLM_STATES)[number];
const slmStateSchema = z.enum(SLM_STATES, { error: 'expected "ok", "warning" or "serious"' });

const cidrSchema = z.string().superRefine((text, ctx) => {
  const parsed = parseCidr(text);
  if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `invalid CIDR: ${parsed}` });
});

export const matchSchema = z.strictObject({
  host: oneOrMany(hostPatternSchema, "a host pattern").optional(),
  path: pathMatchSchema.optional(),
  method: oneOrMany(z.string().regex(TOKEN, "not a valid method"), "a method").optional(),
  query: z.record(queryName, presenceSchema).optional(),
  headers: z.record(headerName, presenceSchema).optional().describe('Header names are case-insensitive; a field sent several times is matched as its values joined with ", ".'),
  cookies: z.record(cookieName, presenceSchema).optional().describe("Cookie values are compared as sent (no unquoting or percent-decoding); the first cookie of a name counts."),
  slm: z
    .record(nameSchema, oneOrMany(slmStateSchema, "an SLM state"))
    .optional()
    .describe("SLM class → state(s): matches while the class is in one of them, as this edge isolate last saw it (refreshed at most every 5 s; unknown counts as ok)."),
  clientIp: oneOrMany(cidrSchema, "a CIDR").optional(),
  // Two letters (ISO 3166-1 alpha-2) or Cloudflare's two-character specials such as T1 (Tor) and XX.
  country: oneOrMany(z.string().regex(/^[A-Za-z0-9]{2}$/, "expected a two-character country code"), "a country code").optional(),
  response: responseMatchSchema.optional(),
});

const customTemplateSchema = z
  .string()
  .min(1)
  .superRefine((template, ctx) => {
    const parsed = parseTemplate(template);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `invalid key template: ${parsed}` });
  });

export const cacheKeySpecSchema = z.strictObject({
  query: z
    .union([z.literal("ignore"), z.strictObject({ include: z.array(queryName) }), z.strictObject({ exclude: z.array(queryName) })], {
      error: 'expected "ignore", { "include": [...] } or { "exclude": [...] }',
    })
    .optional(),
  headers: z.array(headerName).optional(),
  cookies: z.array(cookieName).optional(),
  custom: customTemplateSchema.optional().describe("Replaces the whole key (after the scheme): ${host} ${path} ${method} ${query.NAME} ${header.NAME} ${cookie.NAME}."),
});

export const rateClassRefSchema = z.strictObject({
  name: nameSchema,
  context: z
    .union([z.literal("ip"), z.literal("path"), z.strictObject({ header: headerName }), z.strictObject({ cookie: cookieName })], {
      error: 'expected "ip", "path", { "header": "…" } or { "cookie": "…" }',
    })
    .optional(),
});

export const actionsSchema = z.strictObject({
  cache: responseActionsShape.cache,
  pass: z.boolean().optional().describe("Bypass the cache: forward to the origin and store nothing."),
  ttl: seconds
    .optional()
    .describe(
      "Forced freshness lifetime in seconds: replaces the origin's max-age / Expires / heuristics and stores responses without a validator. " +
        "It keeps the shared-cache safety checks of RFC 9111 §3: responses to requests with Authorization, private, no-store and Set-Cookie responses are still not stored (see storeAuthorized, ignorePrivate, ignoreNoStore, storeSetCookie).",
    ),
  storeAuthorized: z
    .boolean()
    .optional()
    .describe(
      "DANGEROUS: store responses to requests that carry Authorization (RFC 9111 §3.5 forbids it unless the response says public, s-maxage or must-revalidate); one user's answer is then served to everyone. Only for origins that answer every user the same.",
    ),
  ignorePrivate: z.boolean().optional().describe("DANGEROUS: store responses marked Cache-Control: private (RFC 9111 §5.2.2.7), which are meant for one user; every client then gets that user's copy."),
  ignoreNoStore: z.boolean().optional().describe("DANGEROUS: store responses marked no-store (RFC 9111 §5.2.2.5), which the origin asked never to keep (they often hold personal data)."),
  edgeTtl: seconds.optional().describe("Longest time in seconds the edge tier keeps the object (still capped by settings.edgeTtlCapSeconds)."),
  staleWhileRevalidate: seconds.optional().describe("Seconds a stale object may be served while one background revalidation runs (RFC 5861)."),
  refreshTime: seconds.optional().describe("Refresh time in seconds for matching objects, replacing settings.refreshTimeSeconds (0 turns it off for them)."),
  staleIfError: seconds.optional().describe("Seconds a stale object may be served when the origin fails (RFC 5861)."),
  setResponseHeaders: z
    .record(headerName, z.string().regex(/^[^\r\n\0]*$/, "header values cannot contain CR, LF or NUL"))
    .optional()
    .describe("Response headers set before the cacheability test (after removals)."),
  removeResponseHeaders: z.array(headerName).optional().describe("Response headers removed before the cacheability test."),
  cacheKey: cacheKeySpecSchema.optional(),
  tags: z
    .array(z.string().regex(/^[^\s,]{1,1024}$/, "tags are 1–1024 characters without spaces or commas"))
    .optional()
    .describe("Purge tags, added to the ones the origin sends in Cache-Tag / Surrogate-Key."),
  pool: nameSchema.optional(),
  rateClass: rateClassRefSchema.optional(),
  slmClass: nameSchema.optional(),
  storeSetCookie: storeSetCookieSchema.optional().describe(STORE_SET_COOKIE_DESCRIPTION + " Overrides settings.storeSetCookie for the requests this rule matches."),
  skipSharding: z.boolean().optional().describe("Fetch from the origin at the edge instead of through a shard (no cluster-wide coalescing)."),
  redirect: redirectSchema.optional().describe("Answer with a redirect at the edge (never cached, no origin request). The location stays on the request's origin or the one the template writes out."),
  deny: denySchema.optional().describe("Answer with this status and body at the edge (never cached, no origin request). Wins over redirect when merged rules give both."),
  rewrite: rewriteSchema
    .optional()
    .describe("Change the request's path and/or host before the cache key is built and the request goes on; the rules are not evaluated again (the matched rule's other actions apply to the rewritten request)."),
  ...requestHeaderEditsSchema,
});

export const ruleSchema = z
  .strictObject({
    name: nameSchema.optional(),
    match: matchSchema.describe("Every given condition must hold; {} matches every request."),
    actions: actionsSchema,
    continue: z.boolean().optional().describe("After matching, merge these actions and keep evaluating later rules."),
  })
  .superRefine((rule, ctx) => {
    // A response rule acts after the request has gone to the origin: nothing that routes or answers the request.
    const response = rule.match.response !== undefined;
    for (const key of Object.keys(rule.actions)) {
      if (response && !RESPONSE_ACTIONS.has(key))
        ctx.addIssue({ code: "custom", path: ["actions", key], message: `not available in a response rule (match.response): the request has already gone to the origin; allowed: ${[...RESPONSE_ACTIONS].join(", ")}` });
      if (!response && key === "cache") ctx.addIssue({ code: "custom", path: ["actions", key], message: "cache is a response-rule action: add match.response (use pass to bypass the cache for a request)" });
    }
  });

export type Rule = z.output<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type Match = z.output<typeof matchSchema>;
export type PathMatch = z.output<typeof pathMatchSchema>;
export type Presence = z.output<typeof presenceSchema>;
export type Actions = z.output<typeof actionsSchema>;
export type CacheKeySpec = z.output<typeof cacheKeySpecSchema>;
export type RateClassRef = z.output<typeof rateClassRefSchema>;
