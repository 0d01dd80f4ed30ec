/**
 * Three projects: `unit` runs the pure modules in Node (fast, no runtime), `workers` runs the edge
 * worker and its Durable Objects on workerd through the Workers pool, with real DO, KV and Cache
 * bindings, and `e2e` sends raw HTTP (what a Request object cannot express) to the worker on workerd
 * through Miniflare. The only thing the tests control is the origin: the demo origin, started once per run
 * on a free loopback port (test/helpers/global-setup.ts).
 */
import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { freePort } from "./scripts/lib/free-port";
import { buildUiAssets } from "./scripts/build-ui";

process.env.TEST_ORIGIN_PORT ??= String(await freePort());
// The worker imports the dashboard's bundled assets: build them for any way vitest is started.
await buildUiAssets();
const originUrl = `http://127.0.0.1:${process.env.TEST_ORIGIN_PORT}`;

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: ONE on the 2-core machines this project runs on,
    // so every file waited for the previous one's workerd to start. A workers-pool file spends most of its
    // time waiting (workerd starting, loopback I/O, the demo origin), so two files at once keep both cores
    // busy (README, "Tests move time, they do not sleep", has the timings).
    maxWorkers: Math.max(2, availableParallelism()),
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
      {
        // Raw HTTP against the worker on workerd (Miniflare), for requests a Request object cannot express.
        // After the other projects (groupOrder 1), so its own workerd and bundling never compete with timing-sensitive tests.
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], environment: "node", testTimeout: 60_000, hookTimeout: 120_000, sequence: { groupOrder: 1 } },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Config is re-read from KV on every request, so a test's KV write applies at once.
            miniflare: {
              bindings: { ORIGIN_URL: originUrl, TEST_ORIGIN_URL: originUrl, CONFIG_MEMO_MS: "0", TEST_CLOCK: "movable", SLM_STATES_MEMO_MS: "0", CLUSTER_TOKEN: "test-cluster-token", ADMIN_TOKEN: "test-admin-token-0123456789abcdefghij" },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["test/helpers/global-setup.ts"],
          // SLEEP_METER=1 adds the sleep meter: how long each file's test code waits (test/helpers/sleep-meter.ts).
          setupFiles: ["test/helpers/setup-workers.ts", ...(process.env.SLEEP_METER ? ["test/helpers/sleep-meter.ts"] : [])],
          testTimeout: 20_000,
        },
      },
    ],
  },
});
