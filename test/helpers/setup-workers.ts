/**
 * Runs before every workers test: storage is not rolled back between tests in this pool version, so
 * each test starts from the built-in default config unless it writes its own.
 */
import { env } from "cloudflare:test";
import { beforeEach } from "vitest";

beforeEach(async () => {
  await env.CONFIG.delete("config");
});
