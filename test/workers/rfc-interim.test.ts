/**
 * RFC 9110 §15.2: an origin that sends `103 Early Hints` before its final response. The final response
 * is served and stored; the 1xx is never stored. The 103 cannot be forwarded: a Worker cannot send a 1xx
 * (see src/rfc9111/README.md, runtime limits) — the first test records what workerd's fetch() does.
 */
import { describe, expect, it } from "vitest";
import { fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, originUrl, uniquePath } from "../helpers/origin";

describe("RFC 9110 §15.2: interim responses before the final one", () => {
  it("runtime evidence: workerd's fetch() resolves with the 103, the final response's raw bytes as its body; a 1xx Response cannot be built", async () => {
    const raw = await fetch(`${originUrl}${withQuery(uniquePath("early-raw"), { early: "1", cc: "max-age=60" })}`);
    expect(raw.status).toBe(103);
    expect(raw.headers.get("link")).toBe("</early.css>; rel=preload");
    // The connection stays open (keep-alive), so read until the final body shows, then let go.
    const reader = raw.body!.getReader();
    let text = "";
    while (!text.includes("demo origin: ")) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\ndemo origin: /);
    expect(() => new Response(null, { status: 103, headers: { link: "</early.css>; rel=preload" } })).toThrow(RangeError);
  });

  it("the final response is served and stored, the next request is a hit", async () => {
    const path = withQuery(uniquePath("early"), { early: "1", cc: "max-age=60" });
    const first = await fetchVia(path);
    expect(first.status).toBe(200);
    expect(first.text_).toMatch(/^demo origin: /);
    expect(first.headers.get("link")).toBeNull(); // the 103's fields are not merged into the final response
    expect(members(first).shard?.params.stored).toBe(true);
    const hit = await fetchVia(path);
    expect(isHit(hit)).toBe(true);
    expect(hit.text_).toBe(first.text_);
    expect(await originCount(path)).toBe(1);
  });

  it("a chunked final response after the 103 is de-chunked and stored with its length", async () => {
    const path = withQuery(uniquePath("early-chunked"), { early: "1", cc: "max-age=60", size: "3000", chunks: "3" });
    const first = await fetchVia(path);
    expect(first.status).toBe(200);
    expect(first.text_.length).toBe(3000);
    const hit = await fetchVia(path);
    expect(isHit(hit)).toBe(true);
    expect(hit.headers.get("content-length")).toBe("3000");
    expect(hit.headers.get("transfer-encoding")).toBeNull();
  });

  it("a final 404 after the 103 is served as the origin sent it", async () => {
    const path = withQuery(uniquePath("early-404"), { early: "1", status: "404", cc: "max-age=60" });
    const first = await fetchVia(path);
    expect(first.status).toBe(404);
    expect(isHit(await fetchVia(path))).toBe(true);
  });

  it("unsafe methods (sent from the edge) get the final response too", async () => {
    const response = await fetchVia(withQuery(uniquePath("early-post"), { early: "1" }), { method: "POST", body: "x" });
    expect(response.status).toBe(200);
    expect(response.text_).toMatch(/^demo origin: /);
  });
});
