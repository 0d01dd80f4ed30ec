/**
 * A least-recently-used map bounded by bytes rather than entries: the shard's memory tier and the
 * edge's hot-object tier both hold bodies of very different sizes, so counting entries would say
 * nothing about memory. Map iteration order is insertion order, which makes "re-insert on use" an LRU.
 * A hit on the most recently used entry (a hot object, hit after hit) is already in place: it is not
 * re-inserted (two Map operations fewer on every such edge hit, issue 15).
 */
const NONE: unique symbol = Symbol("none");

export class ByteLru<K, V> {
  readonly #entries = new Map<K, { value: V; bytes: number }>();
  /**
   * The most recently used key (NONE before any). It may name a key that has left since (deleted,
   * evicted, cleared): such a key comes back only through `set`, which makes it the newest again.
   */
  #newest: K | typeof NONE = NONE;
  #budgetBytes: number;
  #bytes = 0;
  #evictions = 0;

  /** `onEvict` hears of every entry dropped to stay within budget (not of deletes, or of a value refused for its size). */
  constructor(
    budgetBytes: number,
    private readonly onEvict: (key: K, value: V, bytes: number) => void = () => {},
  ) {
    this.#budgetBytes = budgetBytes;
  }

  get budgetBytes(): number {
    return this.#budgetBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }
  get size(): number {
    return this.#entries.size;
  }
  /** How many entries were dropped to stay within budget since creation. */
  get evictions(): number {
    return this.#evictions;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#newest !== key) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    return entry.value;
  }

  /** Looks without refreshing recency (for stats and purges). */
  peek(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Stores `value`, evicting least recently used entries as needed. A value larger than the whole budget is not kept. */
  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.#budgetBytes) return;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    this.#newest = key;
    this.#evictOverBudget();
  }

  /** Replaces a held entry's value and size without refreshing its recency; false (nothing stored) when `key` is not held. */
  replace(key: K, value: V, bytes: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    // Map.set on a present key keeps its place in the iteration (recency) order.
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes - entry.bytes;
    this.#evictOverBudget();
    return true;
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    return true;
  }

  /** Changes the budget (settings can change at run time) and evicts down to it. */
  resize(budgetBytes: number): void {
    this.#budgetBytes = budgetBytes;
    this.#evictOverBudget();
  }

  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #evictOverBudget(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
      this.#evictions += 1;
      this.onEvict(key, entry.value, entry.bytes);
    }
  }
}
