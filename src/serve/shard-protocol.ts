/**
 * What the edge tells a shard with each request, and the internal response fields a shard sends
 * back. The edge imports these as types only; a shard holds no config of its own, so every request
 * carries the settings and rule decisions that apply to it.
 */
import type { Pool } from "../config/pools";
import type { Settings } from "../config/settings";
import type { PolicyOverrides } from "../rfc9111/types";

export type ShardSettings = Pick<Settings, "maxObjectBytes" | "memoryBudgetBytes" | "maxVariants" | "collapseTimeoutMs" | "hitForPassSeconds" | "verbose"> & {
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
  /** The origin pool a rule or `settings.defaultPool` picked. */
  pool?: { name: string; config: Pool };
  settings: ShardSettings;
  overrides?: PolicyOverrides;
  /** Tags a rule adds to whatever Cache-Tag / Surrogate-Key the origin sends. */
  tags?: string[];
  /** Response header edits a rule applies before the cacheability test. */
  responseHeaders?: { set?: Record<string, string>; remove?: string[] };
}

/** Response field carrying the StoredMeta (JSON) of a stored, full response, so the edge tier may keep a copy. */
export const EDGE_META_HEADER = "x-cluster-edge-meta";
/** Response field carrying the shard's part of X-Cluster-Trace. */
export const SHARD_TRACE_HEADER = "x-cluster-shard-trace";

/** A fault a test or simulation injects into one shard, to exercise the edge's fallback path. */
export type ShardFault = { mode: "none" } | { mode: "throw" } | { mode: "hang" };
