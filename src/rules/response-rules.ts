import type { PolicyOverrides, StoreSetCookie } from "../rfc9111/types";
import { policyOverridesFrom } from "./overrides";
import { compileValueCondition, valueMeets, type ValueTest } from "./value-condition";
import { checkResponseRules, type ResponseActions, type ResponseMatch, type ResponseRuleWire } from "./response-schema";

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
