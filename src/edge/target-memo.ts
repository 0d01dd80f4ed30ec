/**
 * The rule result and the cache key by method and target, for a config whose rules read nothing
 * else of a request (`CompiledRules.readsOnlyTarget`): then a hit neither parses its URL, nor
 * evaluates the rules, nor builds its key (together 7 % of the edge hit's profile, issue 15). A
 * config whose rules read a field, a cookie, the client's address, its country or an SLM state is
 * evaluated per request as before: its result is not a function of the target.
 *
 * One memo per config version (src/index.ts builds EdgeDeps per version), so a new config starts
 * empty and nothing outlives the rules it came from. Bounded: at most MAX_ENTRIES targets of at most
 * MAX_TARGET_LENGTH characters each (about 2 MiB of strings at worst), and cleared when full, so a
 * client sending endless distinct URLs costs the isolate no memory, only the evaluations it would
 * have cost anyway. Results are shared by every request with that target: they are frozen.
 */
import { cacheKeyFor, keyReadsOnlyTarget } from "../rules/cache-key";
import type { CompiledRules, RuleRequest, RuleResult } from "../rules/match";

export const MAX_ENTRIES = 4_096;
/** Longer targets (long query strings) are evaluated each time: rare, and not worth their memory. */
export const MAX_TARGET_LENGTH = 512;

/** What the rules decided for a request: the rule result, and its cache key when that is a function of the target (else null). */
export interface TargetDecision {
  readonly rule: RuleResult;
  readonly key: string | null;
}

export class TargetMemo {
  /** By method, then normalised target (two lookups: no key string is built per request). */
  readonly #byMethod = new Map<string, Map<string, TargetDecision>>();
  #size = 0;

  constructor(private readonly rules: CompiledRules) {}

  /** The decision for `req`: remembered for its method and target when the rules allow, else evaluated. */
  decide(req: RuleRequest & { readonly href: string }): TargetDecision {
    if (!this.rules.readsOnlyTarget) return { rule: this.rules.evaluate(req), key: null };
    const href = req.href;
    const byTarget = this.#byMethod.get(req.method);
    const known = byTarget?.get(href);
    if (known !== undefined) return known;
    const rule = this.rules.evaluate(req);
    const spec = rule.actions.cacheKey;
    const decision: TargetDecision = Object.freeze({ rule: Object.freeze(rule), key: keyReadsOnlyTarget(spec) ? cacheKeyFor(req, spec) : null });
    if (href.length <= MAX_TARGET_LENGTH) this.#remember(req.method, href, byTarget, decision);
    return decision;
  }

  #remember(method: string, href: string, byTarget: Map<string, TargetDecision> | undefined, decision: TargetDecision): void {
    if (this.#size >= MAX_ENTRIES) {
      this.#byMethod.clear();
      this.#size = 0;
      byTarget = undefined;
    }
    if (byTarget === undefined) this.#byMethod.set(method, (byTarget = new Map()));
    byTarget.set(href, decision);
    this.#size++;
  }
}
