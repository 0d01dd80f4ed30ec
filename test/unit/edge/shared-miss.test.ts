import { describe, expect, it } from "vitest";
import { copyWhole, followerResponse, mayShareFlight, shareableLength, type SharedMiss } from "../../../src/edge/shared-miss";
import { at, req, stored200 } from "../rfc9111/fixtures";

const body = new TextEncoder().encode("0123456789");

function shared(headers: Record<string, string>, request = req()): SharedMiss {
  return { meta: stored200({ "content-length": "10", ...headers }, { request }), body, cacheStatus: "shardcache-shard;fwd=uri-miss;stored", cacheInfo: "stored", trace: "shard-1->MISS" };
}

describe("mayShareFlight", () => {
  it.each<[Record<string, string>, boolean]>([
    [{}, true],
    [{ accept: "text/html", range: "bytes=0-1" }, true],
    [{ "cache-control": "no-cache" }, false],
    [{ "cache-control": "max-age=0" }, false],
    [{ pragma: "no-cache" }, false],
  ])("%j → %s", (headers, expected) => expect(mayShareFlight(new Headers(headers))).toBe(expected));
});

describe("shareableLength", () => {
  const meta = stored200({ "cache-control": "max-age=60" });
  const response = (headers: Record<string, string>) => new Response("x".repeat(10), { headers });
  it.each<[string, Record<string, string>, boolean, number | null]>([
    ["declared length within the bound", { "content-length": "10" }, true, 10],
    ["unknown length", {}, true, null],
    ["larger than the bound", { "content-length": "100" }, true, null],
    ["not stored (no edge copy)", { "content-length": "10" }, false, null],
    ["garbage length", { "content-length": "1e3" }, true, null],
  ])("%s", (_name, headers, storedCopy, expected) => {
    expect(shareableLength(response(headers), storedCopy ? meta : null, 50)).toBe(expected);
  });
});

describe("followerResponse", () => {
  it("builds the follower's own answer from the copy: full, 206, 304, HEAD", async () => {
    const copy = shared({ "cache-control": "max-age=60", etag: '"v1"' });
    const full = followerResponse(copy, req(), at(1))!;
    expect(full.status).toBe(200);
    expect(await full.text()).toBe("0123456789");
    expect(full.headers.get("cache-status")).toBe("shardcache-shard;fwd=uri-miss;stored");
    expect(followerResponse(copy, req({ range: "bytes=2-4" }), at(1))!.status).toBe(206);
    expect(followerResponse(copy, req({ "if-none-match": '"v1"' }), at(1))!.status).toBe(304);
    expect(followerResponse(copy, req({}, "HEAD"), at(1))!.body).toBeNull();
  });

  it("refuses a copy of another Vary variant, and one the follower may not reuse", () => {
    const varied = shared({ "cache-control": "max-age=60", vary: "accept-language" }, req({ "accept-language": "en" }));
    expect(followerResponse(varied, req({ "accept-language": "fr" }), at(1))).toBeNull();
    expect(followerResponse(varied, req({ "accept-language": "en" }), at(1))).not.toBeNull();
    expect(followerResponse(shared({ "cache-control": "no-cache", etag: '"v"' }), req(), at(1))).toBeNull();
    expect(followerResponse(shared({ "cache-control": "max-age=1" }), req(), at(5))).toBeNull();
  });
});

describe("copyWhole", () => {
  const source = (parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });

  it("completes the copy even when the client never reads", async () => {
    const [, copy] = copyWhole(source(["ab", "cd"]), 10);
    expect(new TextDecoder().decode((await copy)!)).toBe("abcd");
  });

  it("gives the client every byte, and no copy of a body past the bound", async () => {
    const [client, copy] = copyWhole(source(["ab", "cd"]), 10);
    expect(await new Response(client).text()).toBe("abcd");
    expect(await copy).not.toBeNull();
    const [tooLong, none] = copyWhole(source(["abcdef", "ghijkl"]), 8);
    expect(await none).toBeNull();
    await expect(new Response(tooLong).text()).rejects.toThrow();
  });
});
