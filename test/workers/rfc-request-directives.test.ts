/**
 * RFC 9111 §5.2.1 end to end: request Cache-Control reaches the shard's decision even when the edge
 * tier holds a fresh copy. max-age=0 / no-cache / Pragma force revalidation (a conditional request
 * when validators exist: the demo origin answers 304 to a matching If-None-Match), min-fresh,
 * max-stale and only-if-cached.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

describe("RFC 9111 §5.2.1: request directives", () => {
  for (const [name, headers] of [
    ["max-age=0", { "cache-control": "max-age=0" }],
    ["no-cache", { "cache-control": "no-cache" }],
    ["pragma", { pragma: "no-cache" }],
  ] as const) {
    it(`${name} revalidates a fresh stored response with a conditional request (origin 304)`, async () => {
      const path = withQuery(uniquePath(`req-${name.replace("=", "")}`), { etag: '"r1"', cc: "max-age=60" });
      const first = await fetchVia(path);
      expect(isHit(await fetchVia(path))).toBe(true); // fresh on the edge tier
      const forced = await fetchVia(path, { headers });
      expect(forced.status).toBe(200);
      expect(forced.text_).toBe(first.text_);
      expect(isHit(forced)).toBe(false);
      // RFC 9211 §2.2: the stored response was fresh, the request's directives refused it → fwd=request.
      expect(members(forced).shard?.params).toMatchObject({ fwd: "request", "fwd-status": 304 });
      expect(members(forced).edge?.params.fwd).toBe("request");
      expect(await originCount(path)).toBe(2);
    });
  }

  it("no-cache without validators fetches a full new response", async () => {
    const path = withQuery(uniquePath("req-nocache-full"), { cc: "max-age=60" });
    const first = await fetchVia(path);
    const forced = await fetchVia(path, { headers: { "cache-control": "no-cache" } });
    expect(forced.text_).not.toBe(first.text_);
    expect(members(forced).shard?.params).toMatchObject({ "fwd-status": 200, stored: true });
    // The new response replaced the entry.
    const after = await fetchVia(path);
    expect(after.text_).toBe(forced.text_);
    expect(await originCount(path)).toBe(2);
  });

  it("max-age=N accepts a stored response younger than N", async () => {
    const path = withQuery(uniquePath("req-maxage-ok"), { cc: "max-age=60" });
    await fetchVia(path);
    const response = await fetchVia(path, { headers: { "cache-control": "max-age=30" } });
    expect(isHit(response)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("min-fresh beyond the remaining freshness makes the cache go to the origin", async () => {
    const path = withQuery(uniquePath("req-minfresh"), { cc: "max-age=60" });
    await fetchVia(path);
    const ok = await fetchVia(path, { headers: { "cache-control": "min-fresh=10" } });
    expect(isHit(ok)).toBe(true);
    const tooOld = await fetchVia(path, { headers: { "cache-control": "min-fresh=120" } });
    expect(isHit(tooOld)).toBe(false);
    expect(members(tooOld).shard?.params.fwd).toBe("request");
    expect(await originCount(path)).toBe(2);
  });

  it("max-stale accepts a stale response without contacting the origin; without it the origin is asked", async () => {
    await putConfig({ settings: { verbose: true } });
    const path = withQuery(uniquePath("req-maxstale"), { cc: "max-age=1" });
    const first = await fetchVia(path);
    await advanceTime(1300);
    const stale = await fetchVia(path, { headers: { "cache-control": "max-stale=60" } });
    expect(stale.status).toBe(200);
    expect(stale.text_).toBe(first.text_);
    expect(members(stale).shard?.params).toMatchObject({ hit: true, detail: "max-stale" });
    expect(stale.headers.get("x-cache-info")).toBe("cached; stale, accepted by request max-stale");
    expect(await originCount(path)).toBe(1);
    const tooStale = await fetchVia(path, { headers: { "cache-control": "max-stale=0" } });
    expect(isHit(tooStale)).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("max-stale does not serve a must-revalidate response stale", async () => {
    const path = withQuery(uniquePath("req-maxstale-mr"), { cc: "max-age=1, must-revalidate" });
    await fetchVia(path);
    await advanceTime(1300);
    const response = await fetchVia(path, { headers: { "cache-control": "max-stale=60" } });
    expect(isHit(response)).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("only-if-cached: 504 on a miss without contacting the origin, 200 on a hit", async () => {
    await putConfig({ settings: { verbose: true } });
    const path = withQuery(uniquePath("req-oic"), { cc: "max-age=60" });
    const miss = await fetchVia(path, { headers: { "cache-control": "only-if-cached" } });
    expect(miss.status).toBe(504);
    expect(members(miss).shard?.params.detail).toBe("only-if-cached");
    expect(miss.headers.get("x-cache-info")).toBe('not cached; request specified "Cache-Control: only-if-cached"');
    expect(await originCount(path)).toBe(0);
    await fetchVia(path);
    const hit = await fetchVia(path, { headers: { "cache-control": "only-if-cached" } });
    expect(hit.status).toBe(200);
    expect(isHit(hit)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("only-if-cached with only a stale entry: 504 without contacting the origin; with max-stale the stale entry", async () => {
    const path = withQuery(uniquePath("req-oic-stale"), { cc: "max-age=1", etag: '"o1"' });
    const first = await fetchVia(path);
    await advanceTime(1300);
    const stale = await fetchVia(path, { headers: { "cache-control": "only-if-cached" } });
    expect(stale.status).toBe(504);
    expect(await originCount(path)).toBe(1);
    const allowed = await fetchVia(path, { headers: { "cache-control": "only-if-cached, max-stale=60" } });
    expect(allowed.status).toBe(200);
    expect(allowed.text_).toBe(first.text_);
    expect(await originCount(path)).toBe(1);
  });

  it("request no-store does not stop a stored response from being served (§5.2.1.5), and stores nothing new", async () => {
    const path = withQuery(uniquePath("req-nostore-hit"), { cc: "max-age=60" });
    await fetchVia(path);
    const response = await fetchVia(path, { headers: { "cache-control": "no-store" } });
    expect(isHit(response)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });
});
