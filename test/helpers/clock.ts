/**
 * Moving time in the workers tests instead of sleeping. The suite runs the worker with TEST_CLOCK=movable
 * (vitest.config.ts), so src/index.ts hands every Durable Object and flow `testClock`, the wall clock
 * plus an offset. A test file, SELF and the Durable Objects share one isolate and module graph, so the
 * object imported here is the one they read. The demo origin's Date header moves with it: RFC 9111
 * computes a response's apparent age from Date (§4.2.3), so an origin left behind would make every
 * fresh response look as old as the offset. Every request this isolate sends the demo origin carries the
 * offset (setup-workers.ts), so files running in parallel each get a Date from their own clock.
 */
import { testClock } from "../../src/index";

/** The time the worker sees now (use it instead of Date.now() for instants you compare with the cache's). */
export const now = (): number => testClock.now();

/** Moves the worker's clock, and so the demo origin's Date for this file's requests, `ms` forward. */
export async function advanceTime(ms: number): Promise<void> {
  testClock.advance(ms);
}

/**
 * Runs `work` with the worker's clock held still, so only advanceTime moves it (exact spacing, e.g. for
 * a rate limit, on a loaded machine). Afterwards the clock runs on from the wall clock again. Hold it
 * only around work that never waits for the clock itself to pass a moment (a queue-mode rate class does).
 */
export async function holdingTime<T>(work: () => Promise<T>): Promise<T> {
  testClock.hold();
  try {
    return await work();
  } finally {
    testClock.release();
  }
}
