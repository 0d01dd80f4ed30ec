/**
 * The contract between the edge and a shard: what the edge tells a shard with each request, and the
 * typed result a shard returns (the Durable Object call's own return value, never an HTTP field, so
 * nothing an origin or client sends can pose as shard data). A shard holds no config of its own, so
 * every request carries the settings and rule decisions that apply to it.
 */
import { SHARD_OUTCOMES, type ShardOutcome } from "../observe/outcomes";
import type { Pool } from "../config/pools";
import type { Settings } from "../config/settings";
import { checkStoredMeta } from "../rfc9111/stored-record";
import type { CacheOutcome, PolicyOverrides, StoredMeta } from "../rfc9111/types";
import type { ResponseRuleWire } from "../rules/response-schema";

export type ShardSettings = Pick<
  Settings,
  "maxObjectBytes" | "memoryBudgetBytes" | "storageBudgetBytes" | "maxTtlSeconds" | "refreshTimeSeconds" | "refreshAheadRatio" | "maxVariants" | "collapseTimeoutMs" | "hitForPassSeconds" | "verbose"
> &
  /** Optional so a shard keeps working behind an edge deployed before the setting existed (the default applies). */
  Partial<Pick<Settings, "graceSeconds" | "originBodyIdleMs">> & {
    /** Time allowed for the origin's response headers. */
    originTimeoutMs: number;
  };

export interface ShardRequestContext {
  /** Primary cache key (the edge built it from the URL and the matching rule). */
  key: string;
  /** This shard's name, as the edge's HRW ranking knows it (for traces and stats). */
  shard: string;
  /** Origin base URL for this request, used when no pool applies. */
  origin: string;
  /** The origin pool a rule or `settings.defaultPool` picked, with its failpool chain resolved. */
  pool?: { name: string; config: Pool; failpools?: { name: string; config: Pool }[] };
  settings: ShardSettings;
  overrides?: PolicyOverrides;
  /** Tags a rule adds to whatever Cache-Tag / Surrogate-Key the origin sends. */
  tags?: string[];
  /** Response header edits a rule applies before the cacheability test. */
  responseHeaders?: { set?: Record<string, string>; remove?: string[] };
  /**
   * The response rules whose request conditions held, in order (src/rules/response-rules.ts): the shard
   * checks this bounded form (`checkResponseRules`) and evaluates it on the origin's response with
   * `responsePhase` right before the store decision. Absent: none.
   */
  responseRules?: ResponseRuleWire[];
}

/** The version of `ShardResult`; an edge refuses any other (a shard of another deploy answers as an error). */
export const SHARD_RESULT_VERSION = 1;

/** What a shard answers for one request (`CacheShard.handle`). Workers RPC carries the Response inside it. */
export interface ShardResult {
  v: typeof SHARD_RESULT_VERSION;
  /** What the client gets (the shard's Cache-Status member and X-Cache-Info already on it). */
  response: Response;
  /** The shard's part of X-Cluster-Trace: `shard-3->MISS, origin:web1`. */
  trace: string;
  /** The shard's Cache-Status member, as a value (for stats and logs at the edge). */
  member: Omit<CacheOutcome, "cache">;
  /** What the shard did, as its counters count it (src/observe/outcomes.ts). */
  outcome: ShardOutcome;
  /** The origin (host, or pool node) the shard fetched from for this request; null when it did not. */
  origin: string | null;
  /**
   * The record of a stored, complete GET representation the edge tier may keep a copy of (with the
   * response's body). Absent for 206, 304, HEAD, stale-if-error and everything not stored.
   */
  edgeCopy?: StoredMeta;
}

/** A checked ShardResult: the envelope's version and shape, and the edge copy's record (dropped when invalid). */
export type CheckedShardResult = Omit<ShardResult, "edgeCopy"> & { edgeCopy: StoredMeta | null };

/** Checks a value a shard returned; null when it is not a ShardResult of this version. */
export function checkShardResult(value: unknown): CheckedShardResult | null {
  if (typeof value !== "object" || value === null) return null;
  const result = value as Partial<ShardResult>;
  if (result.v !== SHARD_RESULT_VERSION || !(result.response instanceof Response) || typeof result.trace !== "string") return null;
  if (typeof result.member !== "object" || result.member === null) return null;
  if (!(SHARD_OUTCOMES as readonly unknown[]).includes(result.outcome) || !(result.origin === null || typeof result.origin === "string")) return null;
  const edgeCopy = result.edgeCopy === undefined ? null : checkStoredMeta(result.edgeCopy);
  return { v: result.v, response: result.response, trace: result.trace, member: result.member, outcome: result.outcome as ShardOutcome, origin: result.origin ?? null, edgeCopy };
}

/** A fault a test or simulation injects into one shard, to exercise the edge's fallback path. */
export type ShardFault = { mode: "none" } | { mode: "throw" } | { mode: "hang" };
