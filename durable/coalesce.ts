/**
 * Request coalescing: at most one origin fetch per cache key is in flight in a shard, and every
 * request for that key that arrives meanwhile waits for its outcome instead of fetching again.
 * The outcome says whether waiters may share the leader's response; if not (it was not storable),
 * they are released at once to fetch on their own, so an uncacheable URL never queues traffic.
 * No Durable Object APIs: unit-tested in Node.
 */
import type { Millis } from "../src/lib/units";
import type { StoredMeta } from "../src/rfc9111/types";
import type { OriginFailure } from "../src/origin/fetch-origin";
import type { BodyBroadcast } from "./body-broadcast";
import type { StoredObject } from "./object-store";

export type FlightOutcome =
  /** A storable response whose body is still arriving: waiters read the broadcast from byte 0. */
  | { kind: "streaming"; meta: StoredMeta; broadcast: BodyBroadcast; bodyBytes: number | null }
  /** The origin confirmed the stored copy (304): waiters serve the freshened object. */
  | { kind: "revalidated"; object: StoredObject }
  /** Not shareable (not storable, too large, or request-specific): waiters fetch on their own. */
  | { kind: "not-shared" }
  /** The origin failed; waiters answer from `stale` when they may, otherwise with an error. */
  | { kind: "failed"; failure: OriginFailure | { kind: "status"; status: number }; stale: StoredObject | null };

export interface Flight {
  readonly outcome: Promise<FlightOutcome>;
  /** Waiters that joined this flight (for stats and Cache-Status `collapsed`). */
  waiters: number;
}

/** The leader's handle on its flight: only the one who opened it can settle it. */
export interface OpenFlight extends Flight {
  resolve(outcome: FlightOutcome): void;
}

export class Flights {
  readonly #open = new Map<string, OpenFlight>();

  get size(): number {
    return this.#open.size;
  }

  has(key: string): boolean {
    return this.#open.has(key);
  }

  /** Joins the flight for `key` if one is open. */
  join(key: string): Flight | undefined {
    const flight = this.#open.get(key);
    if (flight !== undefined) flight.waiters += 1;
    return flight;
  }

  /** Opens a flight for `key`; the caller (the leader) must `settle` it and later `close` it. */
  open(key: string): OpenFlight {
    if (this.#open.has(key)) throw new Error(`a flight for ${key} is already open`);
    let resolve!: (outcome: FlightOutcome) => void;
    const outcome = new Promise<FlightOutcome>((r) => (resolve = r));
    const flight: OpenFlight = { outcome, waiters: 0, resolve };
    this.#open.set(key, flight);
    return flight;
  }

  /** Publishes the leader's outcome to every waiter. */
  settle(flight: OpenFlight, outcome: FlightOutcome): void {
    flight.resolve(outcome);
  }

  /** Removes the flight, so the next request for `key` looks in the store (or starts a new fetch). */
  close(key: string, flight: Flight): void {
    if (this.#open.get(key) === flight) this.#open.delete(key);
  }
}

/** Waits for a flight's outcome, or gives up after `timeoutMs` (the documented collapse wait bound). */
export async function awaitFlight(flight: Flight, timeoutMs: Millis): Promise<FlightOutcome | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    return await Promise.race([flight.outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
