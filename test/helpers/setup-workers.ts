/**
 * Runs before every workers test: storage is not rolled back between tests in this pool version, so
 * each test starts from the built-in default config (no document, no last good one, no history) unless it writes its own.
 * Every request this isolate (the test file, SELF, the Durable Objects) sends the demo origin carries the
 * file's clock offset, so its Date follows this file's moved clock and no other's: test files run in
 * parallel (vitest.config.ts), each with its own clock, against one demo origin.
 */
import { env } from "cloudflare:test";
import { beforeEach } from "vitest";
import { testClock } from "../../src/index";
import { CLOCK_OFFSET_FIELD } from "../../scripts/lib/demo-clock";
import { originUrl } from "./origin";

const demoOrigin = new URL(originUrl).host;
const platformFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const request = new Request(input, init);
  if (new URL(request.url).host !== demoOrigin) return platformFetch(request);
  const headers = new Headers(request.headers);
  headers.set(CLOCK_OFFSET_FIELD, String(testClock.offsetMs));
  return platformFetch(new Request(request, { headers }));
};

beforeEach(async () => {
  await env.CONFIG.delete("config");
  // The persisted last good config would otherwise stand in for a deleted one (src/config/last-good.ts).
  await env.CONFIG.delete("config:last-good");
  // Config history (config:versions and config:version:<n>): numbering starts at 1 in every test.
  for (const key of (await env.CONFIG.list({ prefix: "config:version" })).keys) await env.CONFIG.delete(key.name);
});
