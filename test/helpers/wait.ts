/**
 * Waiting for background work (a waitUntil write, a flush, an alarm's effect) to finish: polls a
 * condition on the wall clock with a small bound. Never for time to pass: move the clock for that
 * (test/helpers/clock.ts).
 */
import { fetchVia, isHit } from "./http";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it holds or `withinMs` pass; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, withinMs = 2_000, everyMs = 10): Promise<boolean> {
  for (const end = Date.now() + withinMs; Date.now() < end; await pause(everyMs)) if (await check()) return true;
  return check();
}

/**
 * Waits until the cache holds a fresh copy of a `path` that was stale: a background refresh or
 * revalidation has been stored. Asks with only-if-cached (RFC 9111 §5.2.1.7), which never contacts the
 * origin and never starts a refresh: a hit that is neither stale nor a refresh is the stored new copy.
 * (A copy refreshed ahead, while still fresh, looks the same before and after: watch its Age instead.)
 */
export async function untilFresh(path: string, withinMs = 3_000): Promise<boolean> {
  return eventually(async () => {
    const response = await fetchVia(path, { headers: { "cache-control": "only-if-cached" } });
    return response.status === 200 && isHit(response) && !/fwd=stale|detail=/.test(response.headers.get("cache-status") ?? "");
  }, withinMs);
}

/**
 * Waits until the cache no longer holds `path` (a background invalidation has run): only-if-cached
 * answers 504 on a miss without contacting the origin (RFC 9111 §5.2.1.7).
 */
export async function untilGone(path: string, headers: Record<string, string> = {}, withinMs = 3_000): Promise<boolean> {
  return eventually(async () => (await fetchVia(path, { headers: { ...headers, "cache-control": "only-if-cached" } })).status === 504, withinMs);
}
