/**
 * A value an isolate loads at most once per period and holds across requests, without any request
 * ever awaiting a promise another request's load created.
 *
 * Why: workerd runs a promise's continuations in the request (IoContext) that started the I/O and
 * cancels them once that request is done or cancelled (a client that disconnects); a different
 * request awaiting that promise is then left waiting for good and killed as hung ("The script will
 * never generate a response"), and a loader that keeps handing out that promise hangs every request
 * after it. So:
 *
 * - within the period, every caller gets the held value (no I/O);
 * - after it, the caller that starts the refresh awaits its own load (so the first request after the
 *   period sees what the load read);
 * - callers that arrive while that refresh is in flight get the held value at once, stale by at most
 *   the read's latency;
 * - only while nothing has been loaded yet does a caller wait, and then on a load of its own: a cold
 *   isolate makes one read per request that reaches it before its first read answers (bounded by
 *   those requests, typically a handful), never a wait on another request's read;
 * - a load that fails (rejects) is not held: its caller gets the error, the next caller loads again;
 * - a refresh still unsettled after LOAD_LOST_AFTER_MS counts as lost (its request was cancelled, so
 *   it never settles): the next caller loads its own instead of holding the old value for ever;
 * - a period of 0 holds nothing for anyone: every caller loads its own (the test suite's memo, so a
 *   KV write applies to every request after it, concurrent ones included).
 *
 * A Durable Object's requests share the object's IoContext, so sharing a load there would be safe;
 * the shards use this same helper (durable/cache-shard.ts) for one behaviour in both places.
 */
import type { EpochMillis, Millis } from "./units";

/** Well beyond a KV read or a Durable Object call in normal operation; longer than this, a refresh is presumed lost. */
export const LOAD_LOST_AFTER_MS: Millis = 5_000;

export class CachedValue<T> {
  #held: { value: T } | null = null;
  /** When the load that produced the held value started; null until a load has answered. */
  #loadedAt: EpochMillis | null = null;
  /** The refresh in flight, by the instant it started (each caller's is its own object). */
  #refresh: { since: EpochMillis } | null = null;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: Millis,
    private readonly lostAfterMs: Millis = LOAD_LOST_AFTER_MS,
  ) {}

  /** The value held now, however old (a local change through `update` counts), or null when there is none. */
  get held(): { value: T } | null {
    return this.#held;
  }

  /** Whether the held value came from a load within the period: then `get` answers without I/O. */
  isFresh(now: EpochMillis): boolean {
    return this.#loadedAt !== null && now - this.#loadedAt < this.ttlMs;
  }

  /** The value to use now (see the module comment for who loads and who does not wait). */
  async get(now: EpochMillis): Promise<T> {
    if (this.#loadedAt !== null && this.ttlMs > 0) {
      const { value } = this.#held!;
      if (now - this.#loadedAt < this.ttlMs) return value;
      const refresh = this.#refresh;
      if (refresh !== null && now - refresh.since < this.lostAfterMs) return value;
    }
    return this.#loadOwn(now);
  }

  /**
   * Changes the held value locally (e.g. a purge this isolate just ran). Not a load: the period is
   * not restarted, and while nothing has been loaded callers still load their own.
   */
  update(change: (held: { value: T } | null) => T): void {
    this.#held = { value: change(this.#held) };
  }

  async #loadOwn(now: EpochMillis): Promise<T> {
    const refresh = { since: now };
    this.#refresh = refresh;
    try {
      const value = await this.load();
      // Two loads overlap only on a cold isolate or after a lost one: the one started last is kept.
      if (this.#loadedAt === null || this.#loadedAt <= now) {
        this.#held = { value };
        this.#loadedAt = now;
      }
      return value;
    } finally {
      if (this.#refresh === refresh) this.#refresh = null;
    }
  }
}

/** A getter for a value loaded at most once per `ttlMs` (a failed load is retried on the next call, not cached). */
export function cachedValue<T>(load: () => Promise<T>, ttlMs: Millis, now: () => EpochMillis): () => Promise<T> {
  const cached = new CachedValue(load, ttlMs);
  return () => cached.get(now());
}
