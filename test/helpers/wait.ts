/**
 * Waiting for background work (a waitUntil write, a flush, an alarm's effect) to finish: polls a
 * condition on the wall clock with a small bound. Never for time to pass: move the clock for that
 * (test/helpers/clock.ts).
 */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it holds or `withinMs` pass; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, withinMs = 2_000, everyMs = 10): Promise<boolean> {
  for (const end = Date.now() + withinMs; Date.now() < end; await pause(everyMs)) if (await check()) return true;
  return check();
}
