/**
 * Waiting for background work (a waitUntil write, a flush, an alarm's effect) to finish: polls a
 * condition on the wall clock with a small bound. Never for time to pass: move the clock for that
 * (test/helpers/clock.ts). And answers that must not wait for the origin, shown by order, not by time.
 */
import { expect } from "vitest";
import { failOrigin, fetchVia, isHit } from "./http";

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
 * GETs each of `paths` at once while the origin holds every request under `prefix` unanswered (the
 * demo origin's hold mode), then lets it answer again. An answer that comes cannot have waited for the
 * origin, however loaded the machine (a time bound like "faster than the origin's delay" can be missed);
 * one that waited would come only after the release, and the bounded wait for it fails first.
 */
export async function whileOriginHolds(prefix: string, paths: string[]): Promise<(Response & { text_: string })[]> {
  await failOrigin(prefix, "hold");
  try {
    let answers: (Response & { text_: string })[] | undefined;
    void Promise.all(paths.map((path) => fetchVia(path))).then((responses) => (answers = responses));
    expect(await eventually(() => answers !== undefined, 5_000), "answered while the origin held its requests").toBe(true);
    return answers!;
  } finally {
    await failOrigin(prefix, "off");
  }
}
