/** The bindings tests see through `cloudflare:test`'s `env`: the worker's own plus the test origin's URL. */
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_ORIGIN_URL: string;
    }
  }
}
