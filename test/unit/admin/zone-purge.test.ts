import { describe, expect, it } from "vitest";
import { edgeCacheUrl } from "../../../src/edge/edge-tier";
import { zonePurgeBody, zonePurgerFrom } from "../../../src/edge/zone-purge";

describe("zone purge", () => {
  it("names the edge tier's own Cache API entries", () => {
    const key = "https://a.test/img/x.png?v=1";
    expect(zonePurgeBody({ key })).toEqual({ files: [edgeCacheUrl(key)] });
    expect(zonePurgeBody({ all: true })).toEqual({ purge_everything: true });
    expect(zonePurgeBody({ tag: "blue" })).toEqual({ tags: ["blue"] });
    const prefix = zonePurgeBody({ prefix: "https://a.test/img/" }) as { prefixes: string[] };
    expect(`https://${prefix.prefixes[0]}`).toBe(edgeCacheUrl("https://a.test/img/"));
    expect(edgeCacheUrl(key).startsWith(`https://${prefix.prefixes[0]}`)).toBe(true);
  });

  it("is not created, so never calls the API, without both credentials", () => {
    const fetcher = (() => {
      throw new Error("must not be called");
    }) as unknown as typeof fetch;
    expect(zonePurgerFrom({}, fetcher)).toBeNull();
    expect(zonePurgerFrom({ CF_API_TOKEN: "t" }, fetcher)).toBeNull();
    expect(zonePurgerFrom({ CF_ZONE_ID: "z" }, fetcher)).toBeNull();
    expect(zonePurgerFrom({ CF_API_TOKEN: "", CF_ZONE_ID: "z" }, fetcher)).toBeNull();
  });

  it("with credentials, POSTs the body to the zone's purge_cache endpoint and reports failures as values", async () => {
    const requests: { url: string; init: RequestInit }[] = [];
    let status = 200;
    const fetcher = (async (url: string, init: RequestInit) => {
      requests.push({ url, init });
      return new Response('{"success":true}', { status });
    }) as unknown as typeof fetch;
    const purger = zonePurgerFrom({ CF_API_TOKEN: "tok", CF_ZONE_ID: "zone1" }, fetcher)!;
    expect(await purger.purge({ tag: "blue" })).toEqual({ status: "purged" });
    expect(requests[0]!.url).toBe("https://api.cloudflare.com/client/v4/zones/zone1/purge_cache");
    expect((requests[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer tok");
    expect(JSON.parse(requests[0]!.init.body as string)).toEqual({ tags: ["blue"] });
    status = 429;
    expect(await purger.purge({ all: true })).toMatchObject({ status: "failed", error: expect.stringMatching(/429/) });
    const broken = zonePurgerFrom({ CF_API_TOKEN: "tok", CF_ZONE_ID: "z" }, (async () => Promise.reject(new Error("offline"))) as unknown as typeof fetch)!;
    expect(await broken.purge({ all: true })).toMatchObject({ status: "failed", error: expect.stringMatching(/offline/) });
  });
});
