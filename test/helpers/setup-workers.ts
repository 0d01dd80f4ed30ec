/**
 * Runs before every workers test: storage is not rolled back between tests in this pool version, so
 * each test starts from the built-in default config (no document, no last good one, no history) unless it writes its own.
 * Every request this isolate sends the demo origin (the worker's, its Durable Objects', the test's own)
 * carries this file's clock offset (X-Test-Clock-Offset), so the origin dates its answer by this file's
 * clock: two files run at once, each with its own clock, and one origin. Before each file the origin's
 * shared offset is put back in step too (for anything that reaches it without the field).
 */
import { env } from "cloudflare:test";
import { beforeAll, beforeEach } from "vitest";
import { testClock } from "../../src/index";
import { syncOriginClock } from "./clock";
import { originUrl } from "./origin";

// The test file, the worker and its Durable Objects share this isolate's globals, so this is the fetch they all call.
const untagged = globalThis.fetch;
globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  const request = new Request(input, init);
  if (request.url.startsWith(`${originUrl}/`)) request.headers.set("x-test-clock-offset", String(testClock.offsetMs));
  return untagged(request);
}) as typeof fetch;

beforeAll(syncOriginClock);

beforeEach(async () => {
  await env.CONFIG.delete("config");
  // The persisted last good config would otherwise stand in for a deleted one (src/config/last-good.ts).
  await env.CONFIG.delete("config:last-good");
  // Config history (config:versions and config:version:<n>): numbering starts at 1 in every test.
  for (const key of (await env.CONFIG.list({ prefix: "config:version" })).keys) await env.CONFIG.delete(key.name);
});
