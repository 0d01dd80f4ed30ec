import type { EpochMillis, Millis } from "./units";

/**
 * Where time comes from. Nothing below the composition root reads the wall clock itself: every Durable
 * Object and flow is handed a Clock (src/index.ts builds the one they share), so a test can move time
 * instead of sleeping, and two reads of "now" in one decision come from one place.
 */
export interface Clock {
  now(): EpochMillis;
}

/**
 * Another clock plus an offset that only moves forward: the test suite's clock. The composition root
 * hands it out instead of the system clock only when the TEST_CLOCK binding says so (vitest.config.ts
 * sets it; wrangler.toml never does), and only code in the same isolate that holds the object can
 * move it (test/helpers/clock.ts), never a request. Forward only, because every stored instant
 * (an entry's response time, a rate window, an alarm) assumes time never runs backwards.
 */
export class OffsetClock implements Clock {
  #offset: Millis = 0;
  #heldAt: EpochMillis | null = null;

  constructor(private readonly base: Clock) {}

  now(): EpochMillis {
    return this.#heldAt ?? this.base.now() + this.#offset;
  }

  /** How far this clock is ahead of its base (while it runs). */
  get offsetMs(): Millis {
    return this.#offset;
  }

  /** Moves the clock `ms` forward (a whole number ≥ 0), held or not. */
  advance(ms: Millis): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`a clock moves forward by a whole number of milliseconds, not ${ms}`);
    this.#offset += ms;
    if (this.#heldAt !== null) this.#heldAt += ms;
  }

  /**
   * Stops the clock where it is: until release() only advance() moves it, so spacing a test asks for
   * is exact however slow the machine is. Releasing lets it run on with its base again, a jump forward
   * by the time it was held (never backwards: the offset only grows).
   */
  hold(): void {
    this.#heldAt ??= this.now();
  }

  release(): void {
    this.#heldAt = null;
  }
}
