/**
 * RFC 9111 §4.1 (Vary: secondary keys, variants side by side, `fwd=vary-miss`) and §4.3.2 / RFC 9110
 * §13 (client If-None-Match with weak comparison and If-Modified-Since answered 304 from cache).
 */
import { describe, expect, it } from "vitest";
import { fetchVia, httpDate, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const lang = (value: string) => ({ headers: { "accept-language": value } });

describe("RFC 9111 §4.1: Vary", () => {
  it("stores variants side by side: en and fr each reach the origin once, then both are hits", async () => {
    const path = withQuery(uniquePath("vary"), { vary: "Accept-Language", cc: "max-age=60" });
    const en = await fetchVia(path, lang("en"));
    const fr = await fetchVia(path, lang("fr"));
    expect(en.text_).not.toBe(fr.text_);
    expect(await originCount(path)).toBe(2);
    for (let i = 0; i < 2; i++) {
      const enAgain = await fetchVia(path, lang("en"));
      const frAgain = await fetchVia(path, lang("fr"));
      expect(isHit(enAgain)).toBe(true);
      expect(isHit(frAgain)).toBe(true);
      expect(enAgain.text_).toBe(en.text_);
      expect(frAgain.text_).toBe(fr.text_);
    }
    expect(await originCount(path)).toBe(2);
  });

  it("a request whose selecting header differs is a vary-miss, never the other variant", async () => {
    const path = withQuery(uniquePath("vary-miss"), { vary: "Accept-Language", cc: "max-age=60" });
    const en = await fetchVia(path, lang("en"));
    const de = await fetchVia(path, lang("de"));
    expect(de.text_).not.toBe(en.text_);
    expect(members(de).shard?.params.fwd).toBe("vary-miss");
    expect(members(de).edge?.params.fwd).toBe("vary-miss");
    const none = await fetchVia(path);
    expect(none.text_).not.toBe(en.text_);
    expect(members(none).shard?.params.fwd).toBe("vary-miss");
    expect(await originCount(path)).toBe(3);
  });

  it("selecting headers are compared after normalisation (whitespace, case of the field name)", async () => {
    const path = withQuery(uniquePath("vary-norm"), { vary: "accept-language", cc: "max-age=60" });
    await fetchVia(path, lang("en,  fr"));
    const same = await fetchVia(path, { headers: { "Accept-Language": "en, fr" } });
    expect(isHit(same)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });
});

describe("RFC 9110 §13 / RFC 9111 §4.3.2: client conditionals answered from cache", () => {
  const etagPath = () => withQuery(uniquePath("inm"), { etag: '"abc"', cc: "max-age=60" });

  it("If-None-Match with the strong tag → 304 with ETag and no body, no origin request", async () => {
    const path = etagPath();
    await fetchVia(path);
    const response = await fetchVia(path, { headers: { "if-none-match": '"abc"' } });
    expect(response.status).toBe(304);
    expect(response.text_).toBe("");
    expect(response.headers.get("etag")).toBe('"abc"');
    expect(response.headers.get("cache-control")).toBe("max-age=60");
    expect(response.headers.get("age")).not.toBeNull();
    expect(await originCount(path)).toBe(1);
  });

  it('If-None-Match uses the weak comparison: W/"abc" matches "abc"; lists and * match too', async () => {
    const path = etagPath();
    await fetchVia(path);
    for (const value of ['W/"abc"', '"x", W/"abc"', "*"]) {
      const response = await fetchVia(path, { headers: { "if-none-match": value } });
      expect(response.status).toBe(304);
    }
    const other = await fetchVia(path, { headers: { "if-none-match": '"nope"' } });
    expect(other.status).toBe(200);
    expect(other.text_).toContain("demo origin");
    expect(await originCount(path)).toBe(1);
  });

  it("a conditional on the first (missing) request is answered after storing the full response", async () => {
    const path = etagPath();
    const response = await fetchVia(path, { headers: { "if-none-match": '"abc"' } });
    expect(response.status).toBe(304);
    const full = await fetchVia(path);
    expect(full.status).toBe(200);
    expect(isHit(full)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("If-Modified-Since at or after Last-Modified → 304; before → 200; ignored next to If-None-Match", async () => {
    const lastModified = httpDate(-3600);
    const path = withQuery(uniquePath("ims"), { lm: lastModified, cc: "max-age=60" });
    await fetchVia(path);
    const same = await fetchVia(path, { headers: { "if-modified-since": lastModified } });
    expect(same.status).toBe(304);
    expect(same.headers.get("last-modified")).toBe(lastModified);
    const later = await fetchVia(path, { headers: { "if-modified-since": httpDate(0) } });
    expect(later.status).toBe(304);
    const earlier = await fetchVia(path, { headers: { "if-modified-since": httpDate(-7200) } });
    expect(earlier.status).toBe(200);
    const withInm = await fetchVia(path, { headers: { "if-modified-since": lastModified, "if-none-match": '"other"' } });
    expect(withInm.status).toBe(200);
    expect(await originCount(path)).toBe(1);
  });
});
