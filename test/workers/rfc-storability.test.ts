/**
 * RFC 9111 §3 end to end: every storage refusal reaches the client with its exact X-Cache-Info line
 * and a Cache-Status member `fwd=uri-miss;…;stored=?0;detail=<code>`, and the next request goes to
 * the origin again. Also: no-cache responses are stored but always revalidated (§5.2.2.4), and
 * qualified no-cache="F" / private="F" keep the entry without those fields (§5.2.2.4, §5.2.2.7).
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { fetchVia, httpDate, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

interface Refusal {
  name: string;
  params: Record<string, string>;
  init?: RequestInit;
  settings?: Record<string, unknown>;
  info: string;
  detail: string;
  status?: number;
}

const refusals: Refusal[] = [
  { name: "private", params: { cc: "private" }, info: 'not cacheable; response specified "Cache-Control: private"', detail: "response-private" },
  { name: "set-cookie", params: { "h-Set-Cookie": "session=abc" }, info: 'not cacheable; response sets a cookie ("Set-Cookie")', detail: "set-cookie" },
  { name: "no-store", params: { cc: "public, max-age=60, no-store" }, info: 'not cacheable; response specified "Cache-Control: no-store"', detail: "response-no-store" },
  { name: "req-no-store", params: {}, init: { headers: { "cache-control": "no-store" } }, info: 'not cacheable; request specified "Cache-Control: no-store"', detail: "request-no-store" },
  { name: "authorization", params: { cc: "max-age=60" }, init: { headers: { authorization: "Bearer x" } }, info: 'not cacheable; request specified "Authorization"', detail: "authorization" },
  { name: "status-500", params: { cc: "", status: "500" }, info: "not cacheable; response status was 500", detail: "status", status: 500 },
  { name: "status-403", params: { cc: "", status: "403" }, info: "not cacheable; response status was 403", detail: "status", status: 403 },
  { name: "max-age-0", params: { cc: "max-age=0" }, info: 'not cacheable; response specified "Cache-Control: max-age=0" without a validator', detail: "max-age-zero-no-validator" },
  { name: "no-freshness", params: { cc: "" }, info: "not cacheable; response has no freshness information and no validator", detail: "no-freshness-no-validator" },
  { name: "expired", params: { cc: "", "h-Expires": "Thu, 01 Jan 1970 00:00:00 GMT" }, info: "not cacheable; response already expired", detail: "already-expired" },
  { name: "redirect-302", params: { cc: "", status: "302", "h-Location": "/elsewhere" }, info: "not cacheable; redirect 302 without explicit freshness", detail: "redirect-without-freshness", status: 302 },
  { name: "redirect-307", params: { cc: "", status: "307", "h-Location": "/elsewhere" }, info: "not cacheable; redirect 307 without explicit freshness", detail: "redirect-without-freshness", status: 307 },
  { name: "vary-star", params: { vary: "*" }, info: 'not cacheable; response specified "Vary: *"', detail: "vary-star" },
  { name: "too-large", params: { size: "5000" }, settings: { maxObjectBytes: 1000 }, info: "not cacheable; object too large (5000 bytes)", detail: "too-large" },
  { name: "cdn-no-store", params: { "h-CDN-Cache-Control": "no-store" }, info: 'not cacheable; response specified "CDN-Cache-Control: no-store"', detail: "response-no-store" },
];

describe("RFC 9111 §3: storage refusals, with their exact reasons", () => {
  for (const refusal of refusals) {
    it(`does not store: ${refusal.name}`, async () => {
      await putConfig({ settings: { verbose: true, ...refusal.settings } });
      const path = withQuery(uniquePath(`refuse-${refusal.name}`), refusal.params);
      const first = await fetchVia(path, refusal.init);
      expect(first.status).toBe(refusal.status ?? 200);
      expect(first.headers.get("x-cache-info")).toBe(refusal.info);
      const { shard, edge } = members(first);
      expect(shard?.params).toMatchObject({ fwd: "uri-miss", "fwd-status": refusal.status ?? 200, stored: false, detail: refusal.detail });
      expect(edge?.params).toMatchObject({ fwd: "uri-miss" });
      expect(edge?.params.hit).toBeUndefined();
      const second = await fetchVia(path, refusal.init);
      expect(isHit(second)).toBe(false);
      expect(await originCount(path)).toBe(2);
    });
  }

  it("a 302 without freshness is passed back to the client, not followed", async () => {
    const path = withQuery(uniquePath("redirect-pass"), { cc: "", status: "302", "h-Location": "/target" });
    const response = await fetchVia(path);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/target");
  });

  it("a 302 with explicit freshness is stored", async () => {
    const path = withQuery(uniquePath("redirect-fresh"), { cc: "max-age=60", status: "302", "h-Location": "/target" });
    await fetchVia(path);
    const second = await fetchVia(path);
    expect(second.status).toBe(302);
    expect(isHit(second)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("Authorization: stored when the response says public", async () => {
    const path = withQuery(uniquePath("auth-public"), { cc: "public, max-age=60" });
    const init = { headers: { authorization: "Bearer x" } };
    const first = await fetchVia(path, init);
    expect(members(first).shard?.params.stored).toBe(true);
    const second = await fetchVia(path, init);
    expect(isHit(second)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("Authorization: stored when the response has s-maxage", async () => {
    const path = withQuery(uniquePath("auth-smaxage"), { cc: "s-maxage=60" });
    const init = { headers: { authorization: "Bearer x" } };
    await fetchVia(path, init);
    const second = await fetchVia(path, init);
    expect(isHit(second)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("max-age=0 with a validator is stored (and revalidated on every use)", async () => {
    const path = withQuery(uniquePath("max-age-0-etag"), { cc: "max-age=0", etag: '"m0"' });
    const first = await fetchVia(path);
    expect(members(first).shard?.params.stored).toBe(true);
    const second = await fetchVia(path);
    expect(second.status).toBe(200);
    expect(members(second).shard?.params).toMatchObject({ fwd: "stale", "fwd-status": 304 });
    expect(second.text_).toBe(first.text_);
    expect(await originCount(path)).toBe(2);
  });

  it("an Expires in the future gives freshness", async () => {
    const path = withQuery(uniquePath("expires-future"), { cc: "", "h-Expires": httpDate(120) });
    await fetchVia(path);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(1);
  });
});

describe("RFC 9111 §5.2.2.4: response no-cache is stored but always revalidated", () => {
  it("revalidates every reuse with a conditional request (origin answers 304), never serving it unchecked", async () => {
    await putConfig({ settings: { verbose: true } });
    const path = withQuery(uniquePath("no-cache"), { cc: "no-cache", etag: '"nc1"' });
    const first = await fetchVia(path);
    expect(first.status).toBe(200);
    expect(members(first).shard?.params.stored).toBe(true);
    for (let i = 2; i <= 4; i++) {
      const again = await fetchVia(path);
      expect(again.status).toBe(200);
      expect(again.text_).toBe(first.text_);
      expect(members(again).shard?.params).toMatchObject({ fwd: "stale", "fwd-status": 304 });
      expect(again.headers.get("x-cache-info")).toBe("cached; revalidated with origin (304)");
      expect(await originCount(path)).toBe(i);
    }
  });

  it("without a validator, every request fetches the full response again", async () => {
    const path = withQuery(uniquePath("no-cache-noval"), { cc: "no-cache, max-age=60" });
    const first = await fetchVia(path);
    const second = await fetchVia(path);
    expect(isHit(second)).toBe(false);
    expect(second.text_).not.toBe(first.text_);
    expect(await originCount(path)).toBe(2);
  });
});

describe('RFC 9111 §5.2.2.4 / §5.2.2.7: qualified no-cache="F" and private="F"', () => {
  it('stores a response with no-cache="Set-Cookie" but never serves the Set-Cookie from cache', async () => {
    const path = withQuery(uniquePath("nc-field"), { cc: 'max-age=60, no-cache="Set-Cookie"', "h-Set-Cookie": "session=secret" });
    await fetchVia(path);
    const second = await fetchVia(path);
    expect(isHit(second)).toBe(true);
    expect(second.headers.get("set-cookie")).toBeNull();
    expect(await originCount(path)).toBe(1);
  });

  it('stores a response with private="X-Foo" without X-Foo', async () => {
    const path = withQuery(uniquePath("private-field"), { cc: 'max-age=60, private="X-Foo"', "h-X-Foo": "mine", "h-X-Bar": "shared" });
    await fetchVia(path);
    const second = await fetchVia(path);
    expect(isHit(second)).toBe(true);
    expect(second.headers.get("x-foo")).toBeNull();
    expect(second.headers.get("x-bar")).toBe("shared");
    expect(await originCount(path)).toBe(1);
  });
});
