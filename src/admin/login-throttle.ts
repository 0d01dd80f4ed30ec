/**
 * Slowing down guessing of the admin token: after `freeFailures` consecutive failed logins from one
 * client address, that address is refused (429 + Retry-After) for a time that doubles with every
 * further failure, up to `maxLockMs`. A successful login clears the address. State is bounded: at
 * most `maxAddresses` addresses are remembered, the longest-unseen forgotten first.
 *
 * The state lives in each isolate (per data centre), not cluster-wide: an attacker spread over many
 * data centres gets `freeFailures` tries in each. With a token of 32+ random characters (enforced
 * outside local dev, src/admin/auth.ts) guessing stays hopeless; the throttle bounds the load.
 */
import type { EpochMillis, Millis } from "../lib/units";

export interface ThrottleOptions {
  freeFailures: number;
  baseLockMs: Millis;
  maxLockMs: Millis;
  maxAddresses: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { freeFailures: 5, baseLockMs: 1_000, maxLockMs: 5 * 60_000, maxAddresses: 10_000 };

interface AddressState {
  failures: number;
  lockedUntil: EpochMillis;
}

export class LoginThrottle {
  /** Insertion order is recency order (entries are re-inserted when touched), so the first key is the oldest. */
  readonly #addresses = new Map<string, AddressState>();

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {}

  /** Milliseconds `address` must still wait before it may try again (0: it may try now). */
  retryAfterMs(address: string, now: EpochMillis): Millis {
    const state = this.#addresses.get(address);
    return state === undefined ? 0 : Math.max(0, state.lockedUntil - now);
  }

  recordFailure(address: string, now: EpochMillis): void {
    const state = this.#addresses.get(address) ?? { failures: 0, lockedUntil: 0 };
    state.failures += 1;
    const over = state.failures - this.options.freeFailures;
    if (over > 0) state.lockedUntil = now + Math.min(this.options.maxLockMs, this.options.baseLockMs * 2 ** Math.min(over - 1, 30));
    this.#addresses.delete(address);
    this.#addresses.set(address, state);
    while (this.#addresses.size > this.options.maxAddresses) this.#addresses.delete(this.#addresses.keys().next().value!);
  }

  recordSuccess(address: string): void {
    this.#addresses.delete(address);
  }

  get size(): number {
    return this.#addresses.size;
  }
}
