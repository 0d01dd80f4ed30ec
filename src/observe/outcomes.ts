/**
 * What each tier did with one request, as one word per request per tier. The edge counts every
 * client request once; a shard counts every request that reached it once (background revalidations
 * are not requests). The words are the `outcome` label of `shardcache_requests_total`.
 */
import type { CacheOutcome } from "../rfc9111/types";

/**
 * Edge tier: `hit` answered from the edge tier; `miss` answered by a shard; `pass` sent to the origin
 * by method, rule or skipSharding; `origin` fetched from the origin directly because no shard answered;
 * `refused` a rate class said no; `error` the origin failed on a direct fetch. The edge tier never
 * serves stale: a stale edge copy is a miss that the shard may answer stale.
 */
export const EDGE_OUTCOMES = ["hit", "miss", "pass", "origin", "refused", "error"] as const;
export type EdgeOutcome = (typeof EDGE_OUTCOMES)[number];

/** Shard tier: one word per request that reached a shard (the shard reply's trace word, lower-cased). */
export const SHARD_OUTCOMES = ["hit", "stale", "miss", "coalesced", "revalidated", "pass", "error"] as const;
export type ShardOutcome = (typeof SHARD_OUTCOMES)[number];

/** The edge outcome its Cache-Status member describes (one renderer for both, so they cannot disagree). */
export function edgeOutcomeOf(member: Omit<CacheOutcome, "cache">): EdgeOutcome {
  if (member.hit) return "hit";
  const detail = member.detail;
  // A rate class's 429 and a rule's deny (or an unsafe redirect it refused) turn the client away.
  if (detail === "rate-limited" || detail === "rule-deny" || detail === "rule-refused") return "refused";
  if (detail?.startsWith("origin-")) return "error";
  if (detail === "shards-unavailable") return "origin";
  if (detail === "skip-sharding" || member.fwd === "bypass" || member.fwd === "method") return "pass";
  return "miss";
}

/** The label value for the rule(s) that matched a request: names joined by "+", or "(none)". */
export function ruleLabel(matched: readonly string[]): string {
  if (matched.length === 1) return matched[0]!;
  return matched.length === 0 ? "(none)" : matched.join("+");
}
