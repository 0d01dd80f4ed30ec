/**
 * Turns one validated rule into its precompiled form: host sets and suffixes, method sets, path
 * globs as exact / subtree / RegExp tests with a literal prefix checked first, CIDRs as words, and
 * query / header / cookie names as slots so each request reads every name at most once.
 */
import { linearRegex, type LinearRegex } from "../lib/linear-regex";
import { parseCidr, type Cidr } from "./cidr";
import type { Actions, Match, PathMatch, Rule, SlmStateName } from "./schema";
import { compileValueCondition, type ValueCondition, type ValueTest } from "./value-condition";
import { responseRuleWire, type ResponseRuleWire } from "./response-schema";

/** How a rule tests the path (a const object rather than an enum: isolatedModules-safe and erasable). */
export const PathKind = {
  Any: 0,
  /** `pathText` must equal the path. */
  Exact: 1,
  /** The path is `pathText` or lies under it (`/static/**` also matches `/static`). */
  Subtree: 2,
  /** The path starts with `pathText` (may be empty) and `pathRegex` matches. */
  Regex: 3,
} as const;
export type PathKind = (typeof PathKind)[keyof typeof PathKind];

/** A value test on one name (one object, so a check is one load fewer on the hot path). */
export interface Condition extends ValueTest {
  /** Index into the per-kind name table, whose value is read once per request. */
  slot: number;
}

/** An SLM condition: the class must be in one of `states`. */
export interface SlmCondition {
  className: string;
  states: ReadonlySet<SlmStateName>;
}

/** What a matched rule contributes to a result: its actions (frozen, names lower-cased) and label. */
export interface RuleResult {
  readonly actions: Readonly<Actions>;
  /** Names of the matched rules (or `rules[i]` for unnamed ones), in evaluation order. */
  readonly matched: readonly string[];
  /** The response rules whose request conditions hold, in order, for the shard's store decision (absent: none). */
  readonly responseRules?: readonly ResponseRuleWire[];
}

export interface CompiledRule {
  label: string;
  methods: Set<string> | null;
  hostExact: Set<string> | null;
  /** ".example.com" for `*.example.com`. */
  hostSuffixes: string[] | null;
  pathKind: PathKind;
  pathText: string;
  /** Linear-time (RE2) matcher: config patterns never run on a backtracking engine. */
  pathRegex: LinearRegex | null;
  /** The first path segment every path this rule admits has (`api` for `/api/**`), or null when it can vary: the path index's key. */
  segment: string | null;
  countries: Set<string> | null;
  cidrs: Cidr[] | null;
  query: Condition[] | null;
  headers: Condition[] | null;
  cookies: Condition[] | null;
  slm: SlmCondition[] | null;
  continue: boolean;
  actions: Readonly<Actions>;
  /** Returned as is when this rule is the only one matched, so the common case allocates nothing. */
  alone: RuleResult;
  /** For a response rule (`match.response`): what the shard gets when its request conditions hold. */
  wire: ResponseRuleWire | null;
}

/** Name → slot tables shared by all rules of one compiled set. */
export class SlotTable {
  readonly names: string[] = [];
  readonly #index = new Map<string, number>();
  slot(name: string): number {
    let slot = this.#index.get(name);
    if (slot === undefined) {
      slot = this.names.length;
      this.names.push(name);
      this.#index.set(name, slot);
    }
    return slot;
  }
}

export interface Slots {
  query: SlotTable;
  headers: SlotTable;
  cookies: SlotTable;
}

const list = <T>(value: T | T[] | undefined): T[] | null => (value === undefined ? null : Array.isArray(value) ? value : [value]);

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");

/** Glob → anchored RegExp source: `**` crosses segments, `*` and `?` stay within one; `/**` may also match nothing. */
export function globToRegExpSource(glob: string): string {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slashBefore = source.endsWith("/");
      const slashAfter = glob[i + 2] === "/";
      i++;
      if (slashBefore && slashAfter) {
        // "/a/**/b" also matches "/a/b": the globstar may stand for zero segments.
        source += "(?:.*/)?";
        i++;
      } else if (slashBefore && i === glob.length - 1) {
        source = source.slice(0, -1) + "(?:/.*)?";
      } else {
        source += ".*";
      }
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += escapeRegExp(c);
  }
  return `^${source}$`;
}

/** The literal text every match of an anchored regex must start with ("" when unsure), for a cheap pre-check. */
export function regexLiteralPrefix(source: string): string {
  if (!source.startsWith("^") || source.includes("|")) return "";
  let prefix = "";
  for (let i = 1; i < source.length; i++) {
    const c = source[i]!;
    if ("\\^$.*+?()[]{}".includes(c)) {
      // A quantifier makes the character before it optional, so it is not part of the prefix.
      return "?*{".includes(c) ? prefix.slice(0, -1) : prefix;
    }
    prefix += c;
  }
  return prefix;
}

/** The first segment of a path (`/api/v1` → `api`, `/` → ""); paths always start with "/". */
export function firstSegment(path: string): string {
  const end = path.indexOf("/", 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}

/**
 * The first segment every admitted path shares, from the literal text the path test requires:
 * an exact path, a subtree's root, or a regex's literal prefix when it already holds a second "/".
 */
export function segmentOf(kind: PathKind, text: string): string | null {
  if (kind === PathKind.Any || !text.startsWith("/")) return null;
  if (kind === PathKind.Regex && text.indexOf("/", 1) === -1) return null;
  return firstSegment(text);
}

function compilePath(path: PathMatch | undefined): Pick<CompiledRule, "pathKind" | "pathText" | "pathRegex"> {
  if (path === undefined) return { pathKind: PathKind.Any, pathText: "", pathRegex: null };
  if (typeof path === "object" && "regex" in path) {
    return { pathKind: PathKind.Regex, pathText: regexLiteralPrefix(path.regex), pathRegex: linearRegex(path.regex) };
  }
  const glob = typeof path === "string" ? path : path.glob;
  const firstWild = glob.search(/[*?]/);
  if (firstWild === -1) return { pathKind: PathKind.Exact, pathText: glob, pathRegex: null };
  if (glob.endsWith("/**") && firstWild === glob.length - 2) {
    return { pathKind: PathKind.Subtree, pathText: glob.slice(0, -3), pathRegex: null };
  }
  return { pathKind: PathKind.Regex, pathText: glob.slice(0, firstWild), pathRegex: linearRegex(globToRegExpSource(glob)) };
}

function compileHosts(host: Match["host"]): Pick<CompiledRule, "hostExact" | "hostSuffixes"> {
  const hosts = list(host);
  if (hosts === null) return { hostExact: null, hostSuffixes: null };
  const exact = hosts.filter((h) => !h.startsWith("*.")).map((h) => h.toLowerCase());
  const suffixes = hosts.filter((h) => h.startsWith("*.")).map((h) => h.slice(1).toLowerCase());
  // An empty set (not null) keeps "has a host condition" true for wildcard-only rules.
  return { hostExact: new Set(exact), hostSuffixes: suffixes.length === 0 ? null : suffixes };
}

function compileConditions(conditions: Record<string, ValueCondition> | undefined, table: SlotTable, lowerCase: boolean): Condition[] | null {
  if (conditions === undefined) return null;
  const compiled = Object.entries(conditions).map(([name, want]) => ({ ...compileValueCondition(want), slot: table.slot(lowerCase ? name.toLowerCase() : name) }));
  return compiled.length === 0 ? null : compiled;
}

function compileSlm(conditions: Match["slm"]): SlmCondition[] | null {
  if (conditions === undefined) return null;
  const compiled = Object.entries(conditions).map(([className, states]) => ({ className, states: new Set(list(states)) }));
  return compiled.length === 0 ? null : compiled;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A copy of the actions with header names lower-cased, so merging rules compares names exactly. */
export function normaliseActions(actions: Actions): Actions {
  const out: Actions = { ...actions };
  if (actions.setResponseHeaders !== undefined) {
    out.setResponseHeaders = Object.fromEntries(Object.entries(actions.setResponseHeaders).map(([name, value]) => [name.toLowerCase(), value]));
  }
  if (actions.removeResponseHeaders !== undefined) out.removeResponseHeaders = actions.removeResponseHeaders.map((name) => name.toLowerCase());
  if (actions.setRequestHeaders !== undefined) out.setRequestHeaders = Object.fromEntries(Object.entries(actions.setRequestHeaders).map(([name, value]) => [name.toLowerCase(), value]));
  if (actions.removeRequestHeaders !== undefined) out.removeRequestHeaders = actions.removeRequestHeaders.map((name) => name.toLowerCase());
  if (actions.cacheKey?.headers !== undefined) out.cacheKey = { ...actions.cacheKey, headers: actions.cacheKey.headers.map((name) => name.toLowerCase()) };
  return out;
}

export function compileRule(rule: Rule, index: number, slots: Slots): CompiledRule {
  const { match } = rule;
  const label = rule.name ?? `rules[${index}]`;
  const actions = deepFreeze(normaliseActions(rule.actions));
  const methods = list(match.method);
  const countries = list(match.country);
  const cidrs = list(match.clientIp)?.map((text) => {
    const cidr = parseCidr(text);
    // The schema already refused invalid CIDRs; reaching this is a programmer error.
    if (typeof cidr === "string") throw new Error(`${label}: ${cidr}`);
    return cidr;
  });
  const path = compilePath(match.path);
  return {
    label,
    methods: methods === null ? null : new Set(methods.map((m) => m.toUpperCase())),
    ...compileHosts(match.host),
    ...path,
    segment: segmentOf(path.pathKind, path.pathText),
    countries: countries === null ? null : new Set(countries.map((c) => c.toUpperCase())),
    cidrs: cidrs ?? null,
    query: compileConditions(match.query, slots.query, false),
    headers: compileConditions(match.headers, slots.headers, true),
    cookies: compileConditions(match.cookies, slots.cookies, false),
    slm: compileSlm(match.slm),
    continue: rule.continue === true,
    actions,
    alone: deepFreeze({ actions, matched: [label] }),
    wire: match.response === undefined ? null : deepFreeze(responseRuleWire(label, match.response, rule.actions, rule.continue === true)),
  };
}
