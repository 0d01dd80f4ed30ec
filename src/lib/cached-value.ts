/** A value loaded at most once per `ttlMs` (a failed load is retried on the next call, not cached). */
import type { EpochMillis, Millis } from "./units";

export function cachedValue<T>(load: () => Promise<T>, ttlMs: Millis, now: () => EpochMillis): () => Promise<T> {
  let cached: { at: EpochMillis; value: Promise<T> } | null = null;
  return () => {
    const t = now();
    if (cached === null || t - cached.at >= ttlMs) {
      const value = load();
      cached = { at: t, value };
      value.catch(() => (cached = null));
    }
    return cached.value;
  };
}
