/**
 * The bindings tests see through `cloudflare:test`'s `env`: the worker's own (generated into
 * worker-configuration.d.ts by `npm run types`) plus the test origin's URL, which vitest.config.ts adds.
 */
declare namespace Cloudflare {
  interface Env {
    TEST_ORIGIN_URL: string;
    /** Secrets and variables vitest.config.ts sets (src/env.ts declares them for the worker). */
    ADMIN_TOKEN?: string;
    CLUSTER_TOKEN?: string;
    CONFIG_MEMO_MS?: string;
    SLM_STATES_MEMO_MS?: string;
  }
}
