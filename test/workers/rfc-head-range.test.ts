/**
 * HEAD answered from a stored GET (RFC 9110 §9.3.2, RFC 9111 §4), a HEAD miss fetched as GET but sent
 * on without a body, and byte ranges answered from a stored full response (RFC 9110 §14): 206 with
 * Content-Range, 416 when unsatisfiable, multi-range → the full 200 (deviation 13 of src/rfc9111).
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { fetchVia, isHit, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const SIZE = 100;

describe("HEAD", () => {
  it("is answered from a stored GET: no origin request, no body, the same headers", async () => {
    const path = withQuery(uniquePath("head"), { cc: "max-age=60", etag: '"h1"', size: String(SIZE), "h-X-Extra": "yes" });
    const get = await fetchVia(path);
    const head = await fetchVia(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text_).toBe("");
    expect(isHit(head)).toBe(true);
    for (const name of ["content-type", "content-length", "etag", "cache-control", "x-extra"]) expect(head.headers.get(name)).toBe(get.headers.get(name));
    expect(head.headers.get("content-length")).toBe(String(SIZE));
    expect(await originCount(path)).toBe(1);
  });

  it("on the shard too (edge tier disabled)", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = withQuery(uniquePath("head-shard"), { cc: "max-age=60", size: String(SIZE) });
    await fetchVia(path);
    const head = await fetchVia(path, { method: "HEAD" });
    expect(head.text_).toBe("");
    expect(head.headers.get("cache-status")).toMatch(/^shardcache-shard;hit/);
    expect(await originCount(path)).toBe(1);
  });

  it("a HEAD miss is fetched as GET and stored, but its answer carries no body", async () => {
    const path = withQuery(uniquePath("head-miss"), { cc: "max-age=60", size: String(SIZE) });
    const head = await fetchVia(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text_).toBe("");
    expect(head.headers.get("content-length")).toBe(String(SIZE));
    const get = await fetchVia(path);
    expect(isHit(get)).toBe(true);
    expect(get.text_.length).toBe(SIZE);
    expect(await originCount(path)).toBe(1);
  });

  it("a HEAD miss whose response is not storable still carries no body", async () => {
    const path = withQuery(uniquePath("head-pass"), { cc: "no-store", size: String(SIZE) });
    const head = await fetchVia(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text_).toBe("");
  });
});

describe("RFC 9110 §14: Range from the stored full response", () => {
  async function storedBody(name: string): Promise<{ path: string; body: string }> {
    const path = withQuery(uniquePath(name), { cc: "max-age=60", etag: '"r"', size: String(SIZE) });
    const full = await fetchVia(path);
    expect(full.text_.length).toBe(SIZE);
    return { path, body: full.text_ };
  }

  for (const [range, start, end] of [
    ["bytes=0-9", 0, 9],
    ["bytes=-5", 95, 99],
    ["bytes=10-", 10, 99],
    ["bytes=90-500", 90, 99],
  ] as const) {
    it(`${range} → 206 bytes ${start}-${end}/${SIZE} from cache`, async () => {
      const { path, body } = await storedBody(`range-${range.replace(/\W/g, "")}`);
      const response = await fetchVia(path, { headers: { range } });
      expect(response.status).toBe(206);
      expect(response.headers.get("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(response.headers.get("content-length")).toBe(String(end - start + 1));
      expect(response.text_).toBe(body.slice(start, end + 1));
      expect(isHit(response)).toBe(true);
      expect(await originCount(path)).toBe(1);
    });
  }

  it("an unsatisfiable range → 416 with Content-Range: bytes */size", async () => {
    const { path } = await storedBody("range-416");
    const response = await fetchVia(path, { headers: { range: "bytes=500-" } });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${SIZE}`);
    expect(await originCount(path)).toBe(1);
  });

  it("several ranges → the full 200 from cache", async () => {
    const { path, body } = await storedBody("range-multi");
    const response = await fetchVia(path, { headers: { range: "bytes=0-1,5-6" } });
    expect(response.status).toBe(200);
    expect(response.text_).toBe(body);
    expect(await originCount(path)).toBe(1);
  });

  it("a Range on a miss is answered 206 after fetching and storing the full object", async () => {
    const path = withQuery(uniquePath("range-miss"), { cc: "max-age=60", size: String(SIZE) });
    const partial = await fetchVia(path, { headers: { range: "bytes=0-9" } });
    expect(partial.status).toBe(206);
    expect(partial.text_.length).toBe(10);
    const full = await fetchVia(path);
    expect(full.status).toBe(200);
    expect(full.text_.length).toBe(SIZE);
    expect(isHit(full)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("If-Range with a matching strong ETag → 206; with another → the full 200", async () => {
    const { path, body } = await storedBody("range-ifrange");
    const match = await fetchVia(path, { headers: { range: "bytes=0-9", "if-range": '"r"' } });
    expect(match.status).toBe(206);
    const other = await fetchVia(path, { headers: { range: "bytes=0-9", "if-range": '"x"' } });
    expect(other.status).toBe(200);
    expect(other.text_).toBe(body);
  });
});
