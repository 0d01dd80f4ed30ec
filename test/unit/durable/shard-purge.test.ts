import { describe, expect, it } from "vitest";
import { softPurgedMeta } from "../../../durable/shard-purge";
import { canServeStaleOnError, evaluateReuse } from "../../../src/rfc9111";
import type { StoredMeta } from "../../../src/rfc9111/types";

const T = 1_700_000_000_000;
const meta: StoredMeta = {
  v: 1,
  url: "https://a/x",
  status: 200,
  headers: [["etag", '"v1"']],
  requestTime: T,
  responseTime: T,
  initialAgeSeconds: 0,
  freshnessLifetimeSeconds: 600,
  staleAt: T + 600_000,
  staleWhileRevalidateUntil: T + 660_000,
  staleIfErrorUntil: T + 3_600_000,
  expireAt: T + 3_600_000,
  alwaysRevalidate: false,
  mustRevalidate: false,
  immutable: false,
  etag: '"v1"',
  lastModified: null,
  vary: null,
  variantKey: "",
  bodyBytes: 10,
  tags: [],
  forced: false,
};
const get = { method: "GET", url: "https://a/x", headers: new Headers() };

describe("softPurgedMeta", () => {
  it("makes a fresh entry revalidate at once (no stale-while-revalidate), keeping its validators and stale-if-error", () => {
    expect(evaluateReuse(meta, get, T + 1000).kind).toBe("fresh");
    const soft = softPurgedMeta(meta);
    expect(evaluateReuse(soft, get, T + 1000).kind).toBe("revalidate");
    expect(soft.etag).toBe('"v1"');
    expect(soft.staleAt).toBeLessThanOrEqual(T);
    expect(soft.staleWhileRevalidateUntil).toBe(soft.staleAt);
    expect(canServeStaleOnError(soft, get, T + 1000)).toBe(true);
    expect(soft.expireAt).toBe(T + 3_600_000);
  });
});
