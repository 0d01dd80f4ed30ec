/** The bindings and variables the worker receives (wrangler.toml declares them; secrets via `wrangler secret put`). */
import type { CacheShard } from "../durable/cache-shard";
import type { EventLog } from "../durable/event-log";
import type { HealthMonitor } from "../durable/health-monitor";
import type { RateLimiter } from "../durable/rate-limiter";
import type { SlmMonitor } from "../durable/slm-monitor";
import type { MetricsCollector } from "../durable/metrics-collector";

export interface Env {
  CACHE_SHARD: DurableObjectNamespace<CacheShard>;
  /** One object, named "health": the authoritative origin health. */
  HEALTH_MONITOR: DurableObjectNamespace<HealthMonitor>;
  /** One object, named "events": the cluster event log. */
  EVENT_LOG: DurableObjectNamespace<EventLog>;
  /** Rate-class counters, named `rate:<class>:<n>` (each class spread over several objects). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** One object, named "slm": SLM class windows and rate shaping factors. */
  SLM_MONITOR: DurableObjectNamespace<SlmMonitor>;
  /** One object, named "metrics": the edge tier's counters, flushed in batches by every isolate. */
  METRICS_COLLECTOR: DurableObjectNamespace<MetricsCollector>;
  /** Optional Workers Analytics Engine dataset: one data point per request when bound (see wrangler.toml). */
  ANALYTICS?: AnalyticsEngineDataset;
  /** "off" switches the edge tier's request counting off (only for `npm run bench`'s with/without comparison). */
  EDGE_COUNTING?: string;
  /** KV namespace holding the config document under the key `config`. */
  CONFIG: KVNamespace;
  /** Origin used when the config names none. */
  ORIGIN_URL: string;
  /** How long each isolate memoises the config, in milliseconds (default 5000). */
  CONFIG_MEMO_MS?: string;
  /** Secret that lets a trusted client send X-Cluster-* headers (with X-Cluster-Token). */
  CLUSTER_TOKEN?: string;
  /** Bearer token of the admin API (a secret: `wrangler secret put ADMIN_TOKEN`); without it the admin API answers 503. */
  ADMIN_TOKEN?: string;
  /**
   * "true" only for local development (`npm start` and the test suite set it): the admin API then
   * accepts a short token or the published development token. Never set it on a deployed worker.
   */
  SHARDCACHE_LOCAL_DEV?: string;
  /** Optional: with both set, purges also go to the zone purge API (edge tier in every data centre at once). */
  CF_API_TOKEN?: string;
  CF_ZONE_ID?: string;
}

export const CONFIG_KV_KEY = "config";
export const DEFAULT_CONFIG_MEMO_MS = 5_000;
