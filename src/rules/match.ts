/**
 * Rule evaluation: rules are compiled once per config version, and each request is tested only
 * against the rules whose host and method conditions admit it (memoised by what those conditions
 * can tell apart) and whose path can start with the request's first path segment (an index per
 * memo entry), in rule order, cheapest conditions first, reading each query parameter, header and
 * cookie at most once.
 */
import type { FieldReader } from "../lib/field-reader";
import { cidrContains, parseIpInto } from "./cidr";
import { parseCookies } from "./cookies";
import { compileRule, firstSegment, PathKind, SlotTable, type CompiledRule, type Condition, type RuleResult, type SlmCondition, type Slots } from "./compile";
import type { Actions, Rule, SlmStateName } from "./schema";
import type { ResponseRuleWire } from "./response-schema";
import { valueMeets } from "./value-condition";
import { EMPTY_BUCKET, EMPTY_LIST, indexCandidates, RuleCursor, type Bucket, type Candidates } from "./rule-index";

export type { RuleResult } from "./compile";

/** The parts of a request the rules can see. */
export interface RuleRequest {
  method: string;
  url: URL;
  headers: FieldReader;
  /** From CF-Connecting-IP (or the socket); null when unknown. */
  clientIp: string | null;
  /** ISO 3166-1 alpha-2 code from `request.cf.country`; null when unknown. */
  country: string | null;
  /** An SLM class's state as this isolate last saw it (a cached snapshot, never a call); absent: every class counts as ok. */
  slm?: (className: string) => SlmStateName;
}

export interface CompiledRules {
  readonly size: number;
  /** Whether some rule matches on an SLM state (the edge then keeps the states at hand). */
  readonly usesSlm: boolean;
  /**
   * Whether every rule (response rules too) decides on the method and the target alone: no field,
   * cookie, client address, country or SLM condition. Then one result stands for every request with
   * that method and target (src/edge/target-memo.ts keeps them).
   */
  readonly readsOnlyTarget: boolean;
  /** First match wins; a matched rule with `continue` merges its actions and evaluation goes on. */
  evaluate(req: RuleRequest): RuleResult;
}

const NO_MATCH: RuleResult = Object.freeze({ actions: Object.freeze({}), matched: Object.freeze([]) as readonly string[] });

/** A safety bound on memo entries (known hosts × known methods); beyond it the memo starts over. */
const MEMO_LIMIT = 4096;

/** A per-request cache of looked-up values: slot i is valid while `gens[i]` equals the current generation. */
class SlotValues {
  readonly values: (string | null)[];
  readonly gens: Uint32Array;
  constructor(readonly names: readonly string[]) {
    this.values = new Array<string | null>(names.length).fill(null);
    this.gens = new Uint32Array(names.length);
  }
}

function hostAdmits(rule: CompiledRule, host: string): boolean {
  if (rule.hostExact === null) return true;
  if (rule.hostExact.has(host)) return true;
  return rule.hostSuffixes?.some((suffix) => host.endsWith(suffix)) ?? false;
}

function pathAdmits(rule: CompiledRule, path: string): boolean {
  switch (rule.pathKind) {
    case PathKind.Any:
      return true;
    case PathKind.Exact:
      return path === rule.pathText;
    case PathKind.Subtree:
      return path.startsWith(rule.pathText) && (path.length === rule.pathText.length || path.charCodeAt(rule.pathText.length) === 47);
    case PathKind.Regex:
      return path.startsWith(rule.pathText) && rule.pathRegex!.test(path);
  }
}

/** Later scalars override earlier ones; tags and removals concatenate; header maps and cache-key specs merge. */
function mergeInto(into: Actions, from: Readonly<Actions>): void {
  for (const key of Object.keys(from) as (keyof Actions)[]) {
    switch (key) {
      case "tags":
        into.tags = [...(into.tags ?? []), ...from.tags!.filter((tag) => !into.tags?.includes(tag))];
        break;
      case "removeResponseHeaders":
      case "removeRequestHeaders":
        into[key] = [...new Set([...(into[key] ?? []), ...from[key]!])];
        break;
      case "setResponseHeaders":
      case "setRequestHeaders":
        into[key] = { ...into[key], ...from[key] };
        break;
      case "cacheKey":
        into.cacheKey = { ...into.cacheKey, ...from.cacheKey };
        break;
      default:
        (into as Record<string, unknown>)[key] = from[key];
    }
  }
}

/** Every SLM condition must hold; without a state source every class counts as ok. */
function slmAdmits(conditions: readonly SlmCondition[], req: RuleRequest): boolean {
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[i]!;
    if (!condition.states.has(req.slm?.(condition.className) ?? "ok")) return false;
  }
  return true;
}

class RuleSet implements CompiledRules {
  readonly #rules: CompiledRule[];
  readonly #memo = new Map<string, Map<string, Candidates>>();
  readonly #knownHosts = new Set<string>();
  readonly #knownMethods = new Set<string>();
  readonly #suffixes: string[];
  #memoSize = 0;
  readonly usesSlm: boolean;
  readonly readsOnlyTarget: boolean;
  readonly #query: SlotValues;
  readonly #headers: SlotValues;
  readonly #cookies: SlotValues;
  readonly #ipWords = new Uint32Array(4);
  readonly #cursor = new RuleCursor();
  // Per-evaluation state; evaluate() is synchronous, so one set of scratch fields is never shared.
  #gen = 0;
  #req: RuleRequest | null = null;
  #cookieMap: Map<string, string> | null = null;
  #ipFamily: "v4" | "v6" | null | undefined = undefined;
  #country: string | null | undefined = undefined;

  /** The response rules (`match.response`), evaluated on their request conditions after the request rules. */
  readonly #responseRules: RuleSet | null;

  /** `indexed`: each rule with its position in the document (labels and order); response rules go to their own set. */
  constructor(indexed: readonly { rule: Rule; index: number }[], responsePhase = false) {
    const slots: Slots = { query: new SlotTable(), headers: new SlotTable(), cookies: new SlotTable() };
    const own = responsePhase ? indexed : indexed.filter(({ rule }) => rule.match.response === undefined);
    const response = responsePhase ? [] : indexed.filter(({ rule }) => rule.match.response !== undefined);
    this.#rules = own.map(({ rule, index }) => compileRule(rule, index, slots));
    this.#responseRules = response.length === 0 ? null : new RuleSet(response, true);
    const suffixes = new Set<string>();
    for (const rule of this.#rules) {
      rule.hostExact?.forEach((host) => this.#knownHosts.add(host));
      rule.hostSuffixes?.forEach((suffix) => suffixes.add(suffix));
      rule.methods?.forEach((method) => this.#knownMethods.add(method));
    }
    this.#suffixes = [...suffixes];
    this.usesSlm = this.#rules.some((rule) => rule.slm !== null) || (this.#responseRules?.usesSlm ?? false);
    this.readsOnlyTarget = this.#rules.every((rule) => rule.headers === null && rule.cookies === null && rule.cidrs === null && rule.countries === null && rule.slm === null) && (this.#responseRules?.readsOnlyTarget ?? true);
    this.#query = new SlotValues(slots.query.names);
    this.#headers = new SlotValues(slots.headers.names);
    this.#cookies = new SlotValues(slots.cookies.names);
  }

  get size(): number {
    return this.#rules.length + (this.#responseRules?.size ?? 0);
  }

  evaluate(req: RuleRequest): RuleResult {
    const result = this.#firstMatch(req);
    if (this.#responseRules === null) return result;
    const responseRules = this.#responseRules.#collect(req);
    return responseRules.length === 0 ? result : { actions: result.actions, matched: result.matched, responseRules };
  }

  /** Every rule whose request conditions admit the request, in order: the response rules the shard evaluates. */
  #collect(req: RuleRequest): ResponseRuleWire[] {
    const out: ResponseRuleWire[] = [];
    if (!this.#start(req)) return out;
    const path = req.url.pathname;
    for (let index = this.#cursor.next(); index !== -1; index = this.#cursor.next()) {
      const rule = this.#rules[index]!;
      if (pathAdmits(rule, path) && this.#restAdmits(rule)) out.push(rule.wire!);
    }
    return out;
  }

  /** Positions the cursor on the request's candidates; false when there are none. */
  #start(req: RuleRequest): boolean {
    const candidates = this.#candidates(req.method, req.url.hostname);
    const seg = candidates.bySegment.size === 0 ? EMPTY_BUCKET : (candidates.bySegment.get(firstSegment(req.url.pathname)) ?? EMPTY_BUCKET);
    if (seg === EMPTY_BUCKET && candidates.anySegment === EMPTY_BUCKET) return false;
    this.#begin(req);
    this.#cursor.reset();
    this.#addBucket(candidates.anySegment);
    this.#addBucket(seg);
    return true;
  }

  #firstMatch(req: RuleRequest): RuleResult {
    if (!this.#start(req)) return NO_MATCH;
    const path = req.url.pathname;
    const cursor = this.#cursor;
    let merged: { actions: Actions; matched: string[] } | null = null;
    for (let index = cursor.next(); index !== -1; index = cursor.next()) {
      const rule = this.#rules[index]!;
      if (!pathAdmits(rule, path) || !this.#restAdmits(rule)) continue;
      if (merged === null && !rule.continue) return rule.alone;
      merged ??= { actions: {}, matched: [] };
      mergeInto(merged.actions, rule.actions);
      merged.matched.push(rule.label);
      if (!rule.continue) break;
    }
    return merged ?? NO_MATCH;
  }

  /** A bucket's generic rules, and those keyed by the request's value of its header (an absent header meets no exact value). */
  #addBucket(bucket: Bucket): void {
    this.#cursor.add(bucket.generic);
    if (bucket.slot === -1) return;
    const value = this.#value(this.#headers, 1, bucket.slot);
    this.#cursor.add(value === null ? EMPTY_LIST : (bucket.byValue.get(value) ?? EMPTY_LIST));
  }

  /**
   * Indices of the rules whose host and method conditions admit the request, memoised by what the
   * conditions can tell apart: a host no rule names (and no wildcard covers) and a method no rule
   * names share one entry, so forged Host headers and methods neither miss the memo nor grow it.
   */
  #candidates(method: string, hostname: string): Candidates {
    const host = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
    const methodKey = this.#knownMethods.has(method) ? method : "";
    let hostKey = this.#knownHosts.has(host) ? host : "";
    // "\n" cannot occur in a host name, so the suffix indices never blur into it.
    for (let i = 0; i < this.#suffixes.length; i++) if (host.endsWith(this.#suffixes[i]!)) hostKey += `\n${i}`;
    let byHost = this.#memo.get(methodKey);
    const hit = byHost?.get(hostKey);
    if (hit !== undefined) return hit;
    if (this.#memoSize >= MEMO_LIMIT) {
      this.#memo.clear();
      this.#memoSize = 0;
      byHost = undefined;
    }
    const indices: number[] = [];
    this.#rules.forEach((rule, i) => {
      if ((rule.methods === null || rule.methods.has(method)) && hostAdmits(rule, host)) indices.push(i);
    });
    const list = indexCandidates(this.#rules, indices);
    if (byHost === undefined) this.#memo.set(methodKey, (byHost = new Map()));
    byHost.set(hostKey, list);
    this.#memoSize++;
    return list;
  }

  #begin(req: RuleRequest): void {
    this.#req = req;
    // Wrapping to 0 would make stale slots look current, so skip it.
    this.#gen = this.#gen === 0xffffffff ? 1 : this.#gen + 1;
    this.#cookieMap = null;
    this.#ipFamily = undefined;
    this.#country = undefined;
  }

  #restAdmits(rule: CompiledRule): boolean {
    const req = this.#req!;
    if (rule.countries !== null) {
      this.#country ??= req.country === null ? null : req.country.toUpperCase();
      if (this.#country === null || !rule.countries.has(this.#country)) return false;
    }
    if (rule.query !== null && !this.#all(rule.query, this.#query, 0)) return false;
    if (rule.headers !== null && !this.#all(rule.headers, this.#headers, 1)) return false;
    if (rule.cookies !== null && !this.#all(rule.cookies, this.#cookies, 2)) return false;
    if (rule.slm !== null && !slmAdmits(rule.slm, req)) return false;
    if (rule.cidrs !== null) {
      if (this.#ipFamily === undefined) this.#ipFamily = req.clientIp === null ? null : parseIpInto(req.clientIp, this.#ipWords);
      const family = this.#ipFamily;
      if (family === null || !rule.cidrs.some((cidr) => cidrContains(cidr, family, this.#ipWords))) return false;
    }
    return true;
  }

  #all(conditions: readonly Condition[], table: SlotValues, kind: 0 | 1 | 2): boolean {
    for (let i = 0; i < conditions.length; i++) {
      const condition = conditions[i]!;
      if (!valueMeets(this.#value(table, kind, condition.slot), condition)) return false;
    }
    return true;
  }

  /** A slot's value for this request, read from the request at most once. */
  #value(table: SlotValues, kind: 0 | 1 | 2, slot: number): string | null {
    if (table.gens[slot] !== this.#gen) {
      table.values[slot] = this.#read(kind, table.names[slot]!);
      table.gens[slot] = this.#gen;
    }
    return table.values[slot] ?? null;
  }

  #read(kind: 0 | 1 | 2, name: string): string | null {
    const req = this.#req!;
    if (kind === 0) return req.url.searchParams.get(name);
    if (kind === 1) return req.headers.get(name);
    this.#cookieMap ??= parseCookies(req.headers.get("cookie"));
    return this.#cookieMap.get(name) ?? null;
  }
}

export function compileRules(rules: readonly Rule[]): CompiledRules {
  return new RuleSet(rules.map((rule, index) => ({ rule, index })));
}
