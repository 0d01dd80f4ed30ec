/**
 * RFC 5861 end to end: stale-while-revalidate serves the stale copy at once and refreshes it with
 * exactly one background request (even under a burst of concurrent requests); stale-if-error serves
 * the stale copy when the origin answers 5xx or resets the connection, within the window only.
 * Origin failures are switched on per path prefix, so other test files never see them.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { failOrigin, fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { untilFresh, whileOriginHolds } from "../helpers/wait";

describe("RFC 5861 §3: stale-while-revalidate", () => {
  it("serves stale immediately, revalidates once in the background under 20 concurrent requests, then serves fresh", async () => {
    // One key for both URLs (the rule ignores `cc`): the entry is stored with max-age=1 and the burst's
    // URL makes the background revalidation bring back max-age=60, so "fresh afterwards" is not timing-bound.
    const base = uniquePath("swr");
    await putConfig({ settings: { verbose: true }, rules: [{ match: { path: base }, actions: { cacheKey: { query: { exclude: ["cc"] } } } }] });
    const seed = withQuery(base, { cc: "max-age=1, stale-while-revalidate=30" });
    const path = withQuery(base, { cc: "max-age=60" });
    const first = await fetchVia(seed);
    await advanceTime(1300);
    // Nobody waits for the origin: all 20 are answered while it holds the revalidation unanswered.
    const burst = await whileOriginHolds(
      base,
      Array.from({ length: 20 }, () => path),
    );
    for (const response of burst) {
      expect(response.status).toBe(200);
      expect(response.text_).toBe(first.text_);
      expect(members(response).shard?.params).toMatchObject({ hit: true, detail: "stale-while-revalidate" });
      expect(response.headers.get("x-cache-info")).toBe("cached; stale, revalidating in the background");
    }
    // The one background revalidation's answer is stored.
    expect(await untilFresh(path)).toBe(true);
    const fresh = await fetchVia(path);
    expect(isHit(fresh)).toBe(true);
    expect(members(fresh).shard?.params.detail ?? members(fresh).edge?.params.detail).toBeUndefined();
    expect(fresh.text_).not.toBe(first.text_);
    expect(await originCount(seed)).toBe(1);
    expect(await originCount(path)).toBe(1);
  });

  it("beyond the window the request waits for the origin", async () => {
    const path = withQuery(uniquePath("swr-beyond"), { cc: "max-age=1, stale-while-revalidate=1" });
    const first = await fetchVia(path);
    await advanceTime(2300);
    const response = await fetchVia(path);
    expect(isHit(response)).toBe(false);
    expect(response.text_).not.toBe(first.text_);
    expect(await originCount(path)).toBe(2);
  });
});

describe("RFC 5861 §4: stale-if-error", () => {
  for (const mode of ["503", "reset"] as const) {
    it(`serves the stale copy when the origin fails (${mode})`, async () => {
      await putConfig({ settings: { verbose: true } });
      const prefix = `${uniquePath(`sie-${mode}`)}/obj`;
      const path = withQuery(prefix, { cc: "max-age=1, stale-if-error=60" });
      const first = await fetchVia(path);
      await advanceTime(1300);
      await failOrigin(prefix, mode);
      try {
        const response = await fetchVia(path);
        expect(response.status).toBe(200);
        expect(response.text_).toBe(first.text_);
        expect(members(response).shard?.params).toMatchObject({ hit: true, detail: "stale-if-error" });
        expect(response.headers.get("x-cache-info")).toBe("cached; stale, origin failed");
        expect(Number(response.headers.get("age"))).toBeGreaterThanOrEqual(1);
      } finally {
        await failOrigin(prefix, "off");
      }
      // The origin is back: the next request refreshes the entry.
      const recovered = await fetchVia(path);
      expect(recovered.status).toBe(200);
      expect(recovered.text_).not.toBe(first.text_);
    });
  }

  it("beyond the window: a reset gives 502/504, a 503 is passed on", async () => {
    // Grace (settings.graceSeconds, faults-origin.test.ts) would serve it for longer: this is about the window alone.
    await putConfig({ settings: { graceSeconds: 0 } });
    const prefix = `${uniquePath("sie-beyond")}/obj`;
    const path = withQuery(prefix, { cc: "max-age=1, stale-if-error=1" });
    await fetchVia(path);
    await advanceTime(2300);
    await failOrigin(prefix, "reset");
    try {
      const reset = await fetchVia(path);
      expect([502, 504]).toContain(reset.status);
      expect(isHit(reset)).toBe(false);
      await failOrigin(prefix, "503");
      const unavailable = await fetchVia(path);
      expect(unavailable.status).toBe(503);
      expect(isHit(unavailable)).toBe(false);
    } finally {
      await failOrigin(prefix, "off");
    }
  });

  it("must-revalidate forbids serving stale on error", async () => {
    const prefix = `${uniquePath("sie-mr")}/obj`;
    const path = withQuery(prefix, { cc: "max-age=1, must-revalidate, stale-if-error=60" });
    await fetchVia(path);
    await advanceTime(1300);
    await failOrigin(prefix, "503");
    try {
      const response = await fetchVia(path);
      expect(response.status).toBe(503);
    } finally {
      await failOrigin(prefix, "off");
    }
  });

  it("a request's stale-if-error also allows it (RFC 5861 §4)", async () => {
    const prefix = `${uniquePath("sie-req")}/obj`;
    const path = withQuery(prefix, { cc: "max-age=1" });
    const first = await fetchVia(path);
    await advanceTime(1300);
    await failOrigin(prefix, "503");
    try {
      const response = await fetchVia(path, { headers: { "cache-control": "stale-if-error=60" } });
      expect(response.status).toBe(200);
      expect(response.text_).toBe(first.text_);
    } finally {
      await failOrigin(prefix, "off");
    }
  });
});
