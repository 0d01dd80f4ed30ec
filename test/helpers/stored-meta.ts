/** A stored record (StoredMeta) for tests, with every field a plain default the test can override. */
import type { StoredMeta } from "../../src/rfc9111/types";

/** The default instant of a record: a fixed time, so tests that give `now` themselves need no clock. */
export const T0 = 1_700_000_000_000;

/** A record that is fresh for `lifetimeSeconds` from `at`, with no validators and no stale windows unless given. */
export function storedMeta(url: string, over: Partial<StoredMeta> & { at?: number; lifetimeSeconds?: number } = {}): StoredMeta {
  const { at = T0, lifetimeSeconds = 60, ...rest } = over;
  const staleAt = at + lifetimeSeconds * 1000;
  return {
    v: 1,
    url,
    status: 200,
    headers: [["content-type", "text/plain"]],
    requestTime: at,
    responseTime: at,
    initialAgeSeconds: 0,
    freshnessLifetimeSeconds: lifetimeSeconds,
    staleAt,
    staleWhileRevalidateUntil: staleAt,
    staleIfErrorUntil: staleAt,
    expireAt: staleAt,
    alwaysRevalidate: false,
    mustRevalidate: false,
    immutable: false,
    etag: null,
    lastModified: null,
    vary: null,
    variantKey: "",
    bodyBytes: 0,
    tags: [],
    forced: false,
    ...rest,
  };
}
