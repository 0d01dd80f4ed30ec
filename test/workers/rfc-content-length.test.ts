/**
 * RFC 9110 §8.6 / RFC 9111 §3.1: a response served from cache keeps the stored Content-Length, on both
 * tiers, for HEAD, and after a 304 freshened the stored headers.
 *
 * The header alone proves little on workerd: a Response built from a JavaScript stream keeps a
 * Content-Length header but is still sent chunked. So each body is also sent on, as a request body, to
 * the demo origin's echo endpoint: workerd frames it with Content-Length only when the body's length is
 * known to the runtime, and with Transfer-Encoding: chunked otherwise — the framing a client would get.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { BASE, members, withQuery } from "../helpers/http";
import { originCount, originUrl, uniquePath } from "../helpers/origin";

/** How workerd frames `body` on the wire: its Content-Length, or "chunked". */
async function wireFraming(body: ReadableStream | null): Promise<string> {
  const echoed = await fetch(`${originUrl}/__echo/framing`, { method: "POST", body });
  const { headers } = (await echoed.json()) as { headers: Record<string, string> };
  return headers["transfer-encoding"] === "chunked" ? "chunked" : `length ${headers["content-length"]}`;
}

const get = (path: string, init?: RequestInit) => SELF.fetch(`${BASE}${path}`, init);

describe("Content-Length on responses served from cache (RFC 9110 §8.6, RFC 9111 §3.1)", () => {
  it("edge hit: the stored length, sent with Content-Length", async () => {
    const path = withQuery(uniquePath("cl-edge"), { cc: "max-age=60", size: "3000" });
    expect(await wireFraming((await get(path)).body)).toBe("length 3000");
    const hit = await get(path);
    expect(members(hit).edge?.params.hit).toBe(true);
    expect(hit.headers.get("content-length")).toBe("3000");
    expect(await wireFraming(hit.body)).toBe("length 3000");
    const head = await get(path, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe("3000");
    expect(await head.text()).toBe("");
  });

  it("shard hit that the edge keeps a copy of (edge copy expired first): sent with Content-Length; HEAD too", async () => {
    const prefix = uniquePath("cl-shard");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { edgeTtl: 1 } }] });
    const path = withQuery(`${prefix}/object`, { cc: "max-age=60", size: "5000" });
    await (await get(path)).arrayBuffer();
    await advanceTime(1100);
    const hit = await get(path);
    expect(members(hit).shard?.params.hit).toBe(true);
    expect(members(hit).edge?.params.stored).toBe(true);
    expect(hit.headers.get("content-length")).toBe("5000");
    expect(await wireFraming(hit.body)).toBe("length 5000");
    const head = await get(path, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe("5000");
    expect(await originCount(path)).toBe(1);
  });

  it("shard hit with the edge tier off: sent with Content-Length; HEAD too", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = withQuery(uniquePath("cl-shard-only"), { cc: "max-age=60", size: "5000" });
    await (await get(path)).arrayBuffer();
    const hit = await get(path);
    expect(members(hit).shard?.params.hit).toBe(true);
    expect(hit.headers.get("content-length")).toBe("5000");
    expect(await wireFraming(hit.body)).toBe("length 5000");
    const head = await get(path, { method: "HEAD" });
    expect(members(head).shard?.params.hit).toBe(true);
    expect(head.headers.get("content-length")).toBe("5000");
  });

  it("a body the origin streamed without Content-Length is stored with its length and served with it", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = withQuery(uniquePath("cl-streamed"), { cc: "max-age=60", size: "4000", chunks: "4" });
    const miss = await get(path);
    expect(miss.headers.get("content-length")).toBeNull();
    expect((await miss.arrayBuffer()).byteLength).toBe(4000);
    const hit = await get(path);
    expect(hit.headers.get("content-length")).toBe("4000");
    expect(await wireFraming(hit.body)).toBe("length 4000");
  });

  it("after a 304 updated the stored headers, the stored length stays (§3.2, §4.3.4)", async () => {
    const path = withQuery(uniquePath("cl-304"), { cc: "max-age=3", etag: '"v1"', size: "2500" });
    await (await get(path)).arrayBuffer();
    await advanceTime(3100);
    const revalidated = await get(path);
    expect(members(revalidated).shard?.params["fwd-status"]).toBe(304);
    expect(revalidated.headers.get("content-length")).toBe("2500");
    expect(await wireFraming(revalidated.body)).toBe("length 2500");
    expect(members(revalidated).edge?.params.stored).toBe(true);
    const hit = await get(path);
    expect(members(hit).edge?.params.hit).toBe(true);
    expect(hit.headers.get("content-length")).toBe("2500");
    expect(await wireFraming(hit.body)).toBe("length 2500");
  });
});
