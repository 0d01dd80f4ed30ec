/**
 * Edge single-flight: concurrent misses for one key in one isolate make ONE shard call, and the
 * others (followers) wait for what that call shares. Without it a herd of N cold requests at one data
 * centre is N calls into the same Durable Object, which serves about a thousand a second; with it
 * the shard sees one call per data centre per miss, whatever the number of clients.
 *
 * The flight never makes anyone wait long or for nothing: the leader shares a value or null (not
 * shareable: too large, unknown length, not stored), a leader that throws releases its followers at
 * once, and every follower stops waiting after `waitMs`. A released follower makes its own call.
 *
 * The follower's bound is a timer of its own: workerd runs the leader's timer and call in the
 * leader's request and cancels them when that request is cancelled (a client that disconnects), so a
 * follower relying on them would hang, and the flight left open would catch every later caller for
 * the key. A follower whose own timer ends its wait closes the flight, so the next caller leads.
 */
import type { Millis } from "../lib/units";

export interface Led<R, S> {
  /** What the leader's own caller gets. */
  result: R;
  /** What followers may share, once known; null (or a rejection) releases them to their own calls. */
  shared: Promise<S | null>;
}

export class SingleFlight<S> {
  readonly #open = new Map<string, Promise<S | null>>();

  /** Keys with a flight open now (for tests and stats). */
  get size(): number {
    return this.#open.size;
  }

  /**
   * The first caller for `key` leads (`lead`); callers that arrive while its flight is open follow:
   * `follow` gets the shared value, or null when the leader shared nothing, failed or took longer
   * than `waitMs` (counted from the flight's start).
   */
  async run<R>(key: string, waitMs: Millis, lead: () => Promise<Led<R, S>>, follow: (shared: S | null) => Promise<R>): Promise<R> {
    const open = this.#open.get(key);
    if (open !== undefined) return follow(await this.#follow(key, open, waitMs));
    let settle!: (value: S | null) => void;
    const flight = new Promise<S | null>((resolve) => (settle = resolve));
    this.#open.set(key, flight);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const close = (value: S | null) => {
      clearTimeout(timer);
      settle(value);
      if (this.#open.get(key) === flight) this.#open.delete(key);
    };
    // The flight closes by itself after waitMs: a leader that hangs, or a value that never comes, holds no follower longer.
    timer = setTimeout(() => close(null), waitMs);
    try {
      const led = await lead();
      led.shared.then(close, () => close(null));
      return led.result;
    } catch (error) {
      close(null);
      throw error;
    }
  }

  /** What a follower waits for: the flight, or null after `waitMs` by its own timer (then the flight, presumed lost, is closed). */
  #follow(key: string, flight: Promise<S | null>, waitMs: Millis): Promise<S | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const own = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        if (this.#open.get(key) === flight) this.#open.delete(key);
        resolve(null);
      }, waitMs);
    });
    return Promise.race([flight, own]).finally(() => clearTimeout(timer));
  }
}
