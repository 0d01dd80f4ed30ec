/**
 * The bindings and variables the worker receives. Bindings and [vars] are generated from
 * wrangler.toml by `npm run types` (worker-configuration.d.ts, checked current by CI); secrets and
 * optional variables are not in wrangler.toml, so they are declared here.
 */
export interface Env extends Cloudflare.Env {
  /**
   * Optional Workers Analytics Engine dataset: one data point per request when bound (commented out in
   * wrangler.toml, so not in the generated Env until uncommented).
   */
  ANALYTICS?: AnalyticsEngineDataset;
  /** "off" switches the edge tier's request counting off (only for `npm run bench`'s with/without comparison). */
  EDGE_COUNTING?: string;
  /** How long each isolate memoises the config, in milliseconds (default 5000). */
  CONFIG_MEMO_MS?: string;
  /** How long each isolate keeps the SLM states rules match on, in milliseconds (default 5000). */
  SLM_STATES_MEMO_MS?: string;
  /**
   * "movable" only in the test suite (vitest.config.ts): the composition root then hands every Durable Object
   * and flow the clock tests move forward (src/index.ts testClock). Never set it on a deployed worker.
   */
  TEST_CLOCK?: string;
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
export const DEFAULT_SLM_STATES_MEMO_MS = 5_000;
