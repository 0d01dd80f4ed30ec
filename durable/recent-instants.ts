/** A bounded map from key to its latest instant: setting a key moves it to the newest end; past `capacity` the oldest is dropped. */
import type { EpochMillis } from "../src/lib/units";

export class RecentInstants {
  readonly #instants = new Map<string, EpochMillis>();

  constructor(private readonly capacity: number) {}

  get(key: string): EpochMillis | undefined {
    return this.#instants.get(key);
  }

  set(key: string, at: EpochMillis): void {
    this.#instants.delete(key);
    this.#instants.set(key, at);
    if (this.#instants.size > this.capacity) this.#instants.delete(this.#instants.keys().next().value!);
  }

  delete(key: string): void {
    this.#instants.delete(key);
  }

  clear(): void {
    this.#instants.clear();
  }
}
