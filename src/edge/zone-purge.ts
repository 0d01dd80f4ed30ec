/**
 * The zone purge API (Cloudflare's own cache in every data centre, which holds the edge tier's
 * caches.default copies). Used only when CF_API_TOKEN and CF_ZONE_ID are both set; the KV purge log
 * makes the edge refuse purged copies either way, so this frees space sooner but is not needed for
 * correctness. Behind an interface so tests never touch the network.
 *
 * Not yet done: batching and debouncing calls in a Durable Object (the API is rate limited).
 */
import { EDGE_CACHE_HOST, edgeCacheUrl } from "./edge-tier";
import type { PurgeMatch } from "./purge-log";

export interface ZonePurger {
  purge(match: PurgeMatch): Promise<ZonePurgeOutcome>;
}

export type ZonePurgeOutcome = { status: "purged" } | { status: "failed"; error: string };

/** The purge_cache request body for one purge of the edge tier's entries. */
export function zonePurgeBody(match: PurgeMatch): Record<string, unknown> {
  if ("all" in match) return { purge_everything: true };
  if ("key" in match) return { files: [edgeCacheUrl(match.key)] };
  if ("tag" in match) return { tags: [match.tag] };
  // Zone prefixes are host + path without the scheme; encodeURIComponent keeps prefixes prefixes.
  return { prefixes: [`${EDGE_CACHE_HOST}/edge/${encodeURIComponent(match.prefix)}`] };
}

/** The zone purger for these credentials, or null when either is missing (then nothing is called). */
export function zonePurgerFrom(creds: { CF_API_TOKEN?: string | undefined; CF_ZONE_ID?: string | undefined }, fetcher: typeof fetch = fetch): ZonePurger | null {
  const token = creds.CF_API_TOKEN;
  const zone = creds.CF_ZONE_ID;
  if (!token || !zone) return null;
  return {
    async purge(match) {
      try {
        const response = await fetcher(`https://api.cloudflare.com/client/v4/zones/${encodeURIComponent(zone)}/purge_cache`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(zonePurgeBody(match)),
        });
        if (response.ok) return { status: "purged" };
        return { status: "failed", error: `zone purge API answered ${response.status}: ${(await response.text()).slice(0, 300)}` };
      } catch (error) {
        return { status: "failed", error: `zone purge API unreachable: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}
