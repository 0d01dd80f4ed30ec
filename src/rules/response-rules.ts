/**
 * Response-phase rules: a rule with `match.response` (status list or ranges, content-type glob,
 * response header conditions) whose actions apply to the origin's response right before the store
 * decision (cache / don't cache, ttl, tags, header edits, serve-stale windows).
 *
 * The edge evaluates a response rule's request conditions like any rule's and sends the shard the
 * ones that matched, in a bounded wire form (`ResponseRuleWire`, in `ShardRequestContext`): the shard
 * keeps no config. The shard checks that form (`checkResponseRules`) and `responsePhase` evaluates it
 * on the response: pure, first match wins unless `continue`, merged over the request rule's context.
 * The RFC 9111 §3 trust checks stay in force: a `ttl` lifts none of them (canStore), and only the
 * explicitly DANGEROUS actions (storeAuthorized, ignorePrivate, ignoreNoStore, storeSetCookie) do.
 */
import * as z from "zod";
import { STORE_SET_COOKIE_DESCRIPTION, storeSetCookieSchema } from "../config/set-cookie";
import type { PolicyOverrides, StoreSetCookie } from "../rfc9111/types";
import { policyOverridesFrom } from "./overrides";
import { compileValueCondition, valueConditionSchema, valueMeets, type ValueTest } from "./value-condition";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerName = z.string().max(256).regex(TOKEN, "not a valid header name");
const seconds = z.number().int("expected whole seconds").min(0).max(31_536_000);
const status = z.number().int().min(100).max(599);
const statusRange = z.strictObject({ min: status, max: status }).refine((r) => r.min <= r.max, "min must not exceed max");
const headerValue = z
  .string()
  .max(8192)
  .regex(/^[^\r\n\0]*$/, "header values cannot contain CR, LF or NUL");
const tag = z.string().regex(/^[^\s,]{1,1024}$/, "tags are 1–1024 characters without spaces or commas");

/** At most this many response rules per document, and so per request: they travel with every shard call. */
export const MAX_RESPONSE_RULES = 32;

export const responseMatchSchema = z
  .strictObject({
    status: z
      .union(
        [
          status,
          statusRange,
          z
            .array(z.union([status, statusRange]))
            .min(1)
            .max(32),
        ],
        { error: 'expected a status, { "min", "max" } or a list of them' },
      )
      .optional()
      .describe('Status codes (e.g. 404, [301, 302], { "min": 500, "max": 599 }).'),
    contentType: z
      .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(16)])
      .optional()
      .describe('Glob(s) on the media type, lower-cased and without parameters ("text/*", "image/*", "application/json").'),
    headers: z.record(headerName, valueConditionSchema).optional().describe("Conditions on the origin's response headers (as sent, before any header edit); names case-insensitive."),
  })
  .describe("Makes this a response rule: its actions apply to the origin's response just before the store decision, when these conditions hold too.");

/** The actions a response rule may have: everything that acts on the response, nothing that routes the request. */
export const responseActionsShape = {
  cache: z.boolean().optional().describe("false: do not store this response (answered, not kept); true: store it as the policy allows (undoes an earlier cache: false)."),
  ttl: seconds.optional().describe("Forced freshness lifetime (as the request rule's ttl: it lifts none of RFC 9111 §3's trust checks)."),
  tags: z.array(tag).max(64).optional(),
  setResponseHeaders: z.record(headerName, headerValue).optional(),
  removeResponseHeaders: z.array(headerName).max(64).optional(),
  staleWhileRevalidate: seconds.optional(),
  staleIfError: seconds.optional(),
  storeAuthorized: z.boolean().optional().describe("DANGEROUS: as the request action (RFC 9111 §3.5)."),
  ignorePrivate: z.boolean().optional().describe("DANGEROUS: as the request action (RFC 9111 §5.2.2.7)."),
  ignoreNoStore: z.boolean().optional().describe("DANGEROUS: as the request action (RFC 9111 §5.2.2.5)."),
  storeSetCookie: storeSetCookieSchema.optional().describe(STORE_SET_COOKIE_DESCRIPTION),
};
export const RESPONSE_ACTIONS = new Set(Object.keys(responseActionsShape));
const responseActionsSchema = z.strictObject(responseActionsShape);
export type ResponseActions = z.output<typeof responseActionsSchema>;
export type ResponseMatch = z.output<typeof responseMatchSchema>;

/** What travels to the shard for one matched response rule. */
export const responseRuleWireSchema = z.strictObject({
  label: z.string().min(1).max(160),
  when: responseMatchSchema,
  actions: responseActionsSchema,
  continue: z.boolean().optional(),
});
export type ResponseRuleWire = z.output<typeof responseRuleWireSchema>;
const wireListSchema = z.array(responseRuleWireSchema).max(MAX_RESPONSE_RULES);

/** The wire form of one validated response rule (names lower-cased, so edits merge by exact name). */
export function responseRuleWire(label: string, when: ResponseMatch, actions: Readonly<ResponseActions>, cont: boolean): ResponseRuleWire {
  const lower = <T>(record: Record<string, T> | undefined) => (record === undefined ? undefined : Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v])));
  const wire: ResponseRuleWire = { label, when: { ...when, ...(when.headers ? { headers: lower(when.headers) } : {}) }, actions: { ...actions } };
  if (actions.setResponseHeaders) wire.actions.setResponseHeaders = lower(actions.setResponseHeaders);
  if (actions.removeResponseHeaders) wire.actions.removeResponseHeaders = actions.removeResponseHeaders.map((n) => n.toLowerCase());
  if (cont) wire.continue = true;
  return wire;
}

/** The shard's check of what an edge sent: a valid, bounded list, or null (then no response rule applies). */
export function checkResponseRules(value: unknown): ResponseRuleWire[] | null {
  if (value === undefined) return [];
  const parsed = wireListSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

interface CompiledWhen {
  ranges: [number, number][] | null;
  contentTypes: ValueTest[] | null;
  headers: [string, ValueTest][] | null;
}

/** Compiled conditions by their JSON text: the same few rules arrive with every request, so each compiles once per isolate. */
const compiled = new Map<string, CompiledWhen>();
const MAX_COMPILED = 256;

function compileWhen(when: ResponseMatch): CompiledWhen {
  const key = JSON.stringify(when);
  let out = compiled.get(key);
  if (out !== undefined) return out;
  const statuses = when.status === undefined ? null : Array.isArray(when.status) ? when.status : [when.status];
  const types = when.contentType === undefined ? null : Array.isArray(when.contentType) ? when.contentType : [when.contentType];
  out = {
    ranges: statuses?.map((s): [number, number] => (typeof s === "number" ? [s, s] : [s.min, s.max])) ?? null,
    contentTypes: types?.map((glob) => compileValueCondition({ glob: glob.toLowerCase() })) ?? null,
    headers: when.headers === undefined ? null : Object.entries(when.headers).map(([name, condition]) => [name.toLowerCase(), compileValueCondition(condition)]),
  };
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, out);
  return out;
}

/** The media type of a Content-Type field, lower-cased, without parameters (RFC 9110 §8.3.1); null when absent. */
export function mediaType(contentType: string | null): string | null {
  if (contentType === null) return null;
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export interface ResponseLike {
  status: number;
  headers: Headers;
}

export function responseMatches(when: ResponseMatch, response: ResponseLike): boolean {
  const c = compileWhen(when);
  if (c.ranges !== null && !c.ranges.some(([min, max]) => response.status >= min && response.status <= max)) return false;
  if (c.contentTypes !== null) {
    const type = mediaType(response.headers.get("content-type"));
    if (!c.contentTypes.some((test) => valueMeets(type, test))) return false;
  }
  if (c.headers !== null) for (const [name, test] of c.headers) if (!valueMeets(response.headers.get(name), test)) return false;
  return true;
}

/** The store decision's inputs a rule can change: what `ShardRequestContext` carries from the request rule. */
export interface StoreContext {
  overrides?: PolicyOverrides;
  tags?: string[];
  responseHeaders?: { set?: Record<string, string>; remove?: string[] };
}

/**
 * The request rule's store context with the matching response rules' actions merged over it
 * (first match wins unless `continue`; later scalars win, tags and removals add, sets override).
 * `matched` names the response rules that applied. Pure: `base` is not changed.
 */
export function responsePhase(rules: readonly ResponseRuleWire[], response: ResponseLike, base: StoreContext, defaultStoreSetCookie: StoreSetCookie = "off"): StoreContext & { matched: string[] } {
  const matched: string[] = [];
  let overrides: PolicyOverrides = { ...base.overrides };
  let tags = base.tags;
  let set = base.responseHeaders?.set;
  let remove = base.responseHeaders?.remove;
  for (const rule of rules) {
    if (!responseMatches(rule.when, response)) continue;
    matched.push(rule.label);
    const a = rule.actions;
    overrides = responseOverrides(overrides, a, defaultStoreSetCookie, rule.label);
    if (a.tags !== undefined) tags = [...new Set([...(tags ?? []), ...a.tags])];
    if (a.setResponseHeaders !== undefined) set = { ...set, ...a.setResponseHeaders };
    if (a.removeResponseHeaders !== undefined) remove = [...new Set([...(remove ?? []), ...a.removeResponseHeaders])];
    if (rule.continue !== true) break;
  }
  if (matched.length === 0) return { ...base, matched };
  const out: StoreContext & { matched: string[] } = { overrides, matched };
  if (tags !== undefined) out.tags = tags;
  if (set !== undefined || remove !== undefined) out.responseHeaders = { ...(set ? { set } : {}), ...(remove ? { remove } : {}) };
  return out;
}

/** The request rule's overrides with one response rule's on top: the same bridge as for request rules (`policyOverridesFrom`). */
function responseOverrides(into: PolicyOverrides, a: ResponseActions, defaultStoreSetCookie: StoreSetCookie, label: string): PolicyOverrides {
  const out: PolicyOverrides = { ...into, ...policyOverridesFrom(a, defaultStoreSetCookie) };
  // An explicit "off" turns a setting's or earlier rule's strip / keep off again.
  if (a.storeSetCookie === "off") delete out.storeSetCookie;
  if (a.cache === false) out.refusedByRule = label;
  if (a.cache === true) delete out.refusedByRule;
  return out;
}

/**
 * The shard's one step before a store decision: `ctx` with the decisions of the response rules that
 * match `response`. The list is checked first (it crossed a boundary); a malformed one applies none.
 */
export function withResponseRules<C extends StoreContext & { responseRules?: unknown }>(ctx: C, response: ResponseLike): C {
  if (ctx.responseRules === undefined) return ctx;
  const rules = checkResponseRules(ctx.responseRules);
  if (rules === null || rules.length === 0) return ctx;
  const { matched, ...decided } = responsePhase(rules, response, ctx);
  return matched.length === 0 ? ctx : { ...ctx, ...decided };
}
