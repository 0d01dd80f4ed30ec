/**
 * Partial content (RFC 9111 §3.3, §3.4; RFC 9110 §14): a 206 from the origin is stored as an incomplete
 * response, answers later ranges that fall inside it, is combined with a new part that touches it (and
 * becomes a complete 200 once it covers the representation), after which `bytes=N-` and full requests
 * are answered from cache. The demo origin's `part=LEN` sends the k-th part on its k-th request.
 */
import { describe, expect, it } from "vitest";
import { fetchVia, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";
const bytesOf = (start: number, end: number) => Array.from({ length: end - start + 1 }, (_, i) => ALPHABET[(start + i) % 26]).join("");
const range = (value: string) => ({ headers: { range: value } });

describe("RFC 9111 §3.3 / §3.4: stored partial content", () => {
  it("stores a 206, answers ranges inside it, combines the next part, then serves bytes=N- and the whole from cache", async () => {
    const path = withQuery(uniquePath("partial"), { part: "10", size: "20", etag: '"p1"', cc: "max-age=60" });

    const first = await fetchVia(path, range("bytes=0-4"));
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe("bytes 0-4/20");
    expect(first.text_).toBe(bytesOf(0, 4));
    expect(members(first).shard?.params.stored).toBe(true);

    const inside = await fetchVia(path, range("bytes=2-8"));
    expect(inside.status).toBe(206);
    expect(members(inside).shard?.params.hit).toBe(true);
    expect(inside.headers.get("content-range")).toBe("bytes 2-8/20");
    expect(inside.headers.get("content-length")).toBe("7");
    expect(inside.text_).toBe(bytesOf(2, 8));
    expect(await originCount(path)).toBe(1);

    // Outside the stored part: fetched; the origin's second part (10-19) is combined with 0-9 → complete.
    const outside = await fetchVia(path, range("bytes=5-"));
    expect(members(outside).shard?.params.fwd).toBe("partial");
    expect(await originCount(path)).toBe(2);

    const suffix = await fetchVia(path, range("bytes=5-"));
    expect(suffix.status).toBe(206);
    expect(members(suffix).shard?.params.hit).toBe(true);
    expect(suffix.headers.get("content-range")).toBe("bytes 5-19/20");
    expect(suffix.text_).toBe(bytesOf(5, 19));

    const whole = await fetchVia(path);
    expect(whole.status).toBe(200);
    expect(whole.text_).toBe(bytesOf(0, 19));
    expect(whole.headers.get("content-length")).toBe("20");
    expect(whole.headers.get("content-range")).toBeNull();
    expect(await originCount(path)).toBe(2);
  });

  it("a stored part never answers a request for the whole representation, nor the edge tier keeps it", async () => {
    const path = withQuery(uniquePath("partial-full"), { part: "10", size: "30", etag: '"p2"', cc: "max-age=60" });
    await fetchVia(path, range("bytes=0-3"));
    const full = await fetchVia(path);
    expect(members(full).shard?.params.fwd).toBe("partial");
    expect(members(full).edge?.params.stored).not.toBe(true);
    expect(await originCount(path)).toBe(2);
  });

  it("parts with weak validators are never combined: the newer part replaces the stored one", async () => {
    const path = withQuery(uniquePath("partial-weak"), { part: "10", size: "20", etag: 'W/"p3"', cc: "max-age=60" });
    await fetchVia(path, range("bytes=0-4"));
    await fetchVia(path, range("bytes=12-15")); // outside: the origin's part 10-19 replaces 0-9 (weak tags never combine)
    const old = await fetchVia(path, range("bytes=0-4"));
    expect(members(old).shard?.params.fwd).toBe("partial");
    expect(await originCount(path)).toBe(3);
  });

  it("a 206 whose body does not match its Content-Range is served but not stored", async () => {
    const path = withQuery(uniquePath("partial-lying"), { status: "206", "h-content-range": "bytes 0-99/200", size: "10", cc: "max-age=60", etag: '"p4"' });
    const first = await fetchVia(path, range("bytes=0-4"));
    expect(first.status).toBe(206);
    const again = await fetchVia(path, range("bytes=0-4"));
    expect(members(again).shard?.params.hit).toBeUndefined();
    expect(await originCount(path)).toBe(2);
  });
});
