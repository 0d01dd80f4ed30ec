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
  /**
   * The edge takes a stored body of at most INLINE_BODY_MAX_BYTES held in the shard's memory inline
   * (`InlineShardResult.inline`): one RPC message instead of a stream across the boundary. Absent (a test, an
   * older edge): every answer is a Response.
   */
  inline?: true;
}

/** The largest body a shard answers inline; larger ones stream, so a big object is never copied whole into one message. */
export const INLINE_BODY_MAX_BYTES = 64 * 1024;

/** A whole answer as data: what a Response would carry, for a body the shard holds in memory (and for answers with none). */
export interface InlineResponse {
  status: number;
  /** The fields in order, as the Response's Headers list them (or as stored: `new Headers` of either is the same). */
  headers: (readonly [string, string])[];
  body: Uint8Array | null;
}

/** The version of `ShardResult`; an edge refuses any other (a shard of another deploy answers as an error). */
export const SHARD_RESULT_VERSION = 1;

/** What a shard answers for one request (`CacheShard.handle`). Workers RPC carries the Response inside it. */
export type ShardResult = ShardResultFields & {
  /** What the client gets (the shard's Cache-Status member and X-Cache-Info already on it). */
  response: Response;
};
/** The same with the answer inline instead (a context with `inline` may get it). */
export type InlineShardResult = ShardResultFields & { inline: InlineResponse };
/** What `handle` answers for a context of type `C`: inline answers only for a context that takes them. */
export type ShardAnswer<C extends ShardRequestContext = ShardRequestContext> = C extends { inline: true } ? ShardResult | InlineShardResult : ShardResult;

interface ShardResultFields {
  v: typeof SHARD_RESULT_VERSION;
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

/**
 * A checked ShardResult: the envelope's version and shape, the answer as a Response (built here from an
 * inline answer), and the edge copy's record (dropped when invalid). `body`: the whole body when it came
 * inline (the edge keeps or shares it without reading a stream), else null.
 */
export type CheckedShardResult = Omit<ShardResultFields, "edgeCopy"> & { response: Response; body: Uint8Array | null; edgeCopy: StoredMeta | null };

/** Checks a value a shard returned; null when it is not a ShardResult of this version. */
export function checkShardResult(value: unknown): CheckedShardResult | null {
  if (typeof value !== "object" || value === null) return null;
  const result = value as Partial<ShardResultFields> & { response?: unknown; inline?: unknown };
  if (result.v !== SHARD_RESULT_VERSION || typeof result.trace !== "string") return null;
  const answer = result.response instanceof Response ? { response: result.response, body: null } : result.response === undefined ? responseFromInline(result.inline) : null;
  if (answer === null) return null;
  if (typeof result.member !== "object" || result.member === null) return null;
  if (!(SHARD_OUTCOMES as readonly unknown[]).includes(result.outcome) || !(result.origin === null || typeof result.origin === "string")) return null;
  const edgeCopy = result.edgeCopy === undefined ? null : checkStoredMeta(result.edgeCopy);
  return { v: result.v, ...answer, trace: result.trace, member: result.member, outcome: result.outcome as ShardOutcome, origin: result.origin ?? null, edgeCopy };
}

/**
 * The Response an inline answer describes; null when it is not one (a status the Response constructor
 * refuses, a field name or value it refuses, a body on a null-body status, a body over the bound).
 */
function responseFromInline(value: unknown): { response: Response; body: Uint8Array | null } | null {
  if (typeof value !== "object" || value === null) return null;
  const { status, headers, body } = value as Partial<InlineResponse>;
  if (typeof status !== "number" || !Array.isArray(headers) || !(body === null || (body instanceof Uint8Array && body.byteLength <= INLINE_BODY_MAX_BYTES))) return null;
  if (!headers.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === "string" && typeof pair[1] === "string")) return null;
  try {
    return { response: new Response(body, { status, headers }), body };
  } catch {
    return null;
  }
}

/** A fault a test or simulation injects into one shard, to exercise the edge's fallback path. */
export type ShardFault = { mode: "none" } | { mode: "throw" } | { mode: "hang" };
