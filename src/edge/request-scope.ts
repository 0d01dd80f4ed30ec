/**
 * The two records the edge path hands to the parts around it: what one request brings (`RequestScope`,
 * the only values built per request) and how it ended (`EdgeAnswer`, what the counters and the access
 * log see). Kept apart from the handler so those parts need not import the handler that calls them.
 */
import type { EpochMillis } from "../lib/units";
import type { EdgeOutcome, ShardOutcome } from "../observe/outcomes";
import type { Incoming } from "./incoming";
import type { PurgeIndex } from "./purge-log";
import type { WaitUntil } from "./shard-client";

/** One answer of the edge, as the counters and the access log see it. */
export interface EdgeAnswer {
  rule: string;
  outcome: EdgeOutcome;
  status: number;
  bytes: number;
  /** Who answered behind the edge: the shard (its name and outcome) and the origin, when any did. */
  upstream: Upstream;
}

export interface Upstream {
  shard: ShardOutcome | null;
  shardName: string | null;
  origin: string | null;
}

/** What only this request knows: the only values built per request. */
export interface RequestScope {
  /** The request in its normal form, its parts read once (src/edge/incoming.ts); its client address too, when first asked for. */
  incoming: Incoming;
  receivedAt: EpochMillis;
  /** The client's country as the platform reports it (rules match on it). */
  country: string | null;
  /** Recent purges (KV purge log, memoised apart from the config): an edge copy stored before a matching purge is a miss. */
  purges: PurgeIndex;
  waitUntil: WaitUntil;
}
