/**
 * Runs before every workers test: storage is not rolled back between tests in this pool version, so
 * each test starts from the built-in default config (no document, no last good one, no history) unless it writes its own.
 * Before each file: the demo origin's Date is put back in step with this file's clock (a fresh isolate starts
 * at offset 0; the previous file may have moved the origin's).
 */
import { env } from "cloudflare:test";
import { beforeAll, beforeEach } from "vitest";
import { syncOriginClock } from "./clock";

beforeAll(syncOriginClock);

beforeEach(async () => {
  await env.CONFIG.delete("config");
  // The persisted last good config would otherwise stand in for a deleted one (src/config/last-good.ts).
  await env.CONFIG.delete("config:last-good");
  // Config history (config:versions and config:version:<n>): numbering starts at 1 in every test.
  for (const key of (await env.CONFIG.list({ prefix: "config:version" })).keys) await env.CONFIG.delete(key.name);
});
