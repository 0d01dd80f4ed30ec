/**
 * Hostile requests that only raw HTTP can send (a Request object cannot carry a body on GET, so the
 * workers pool cannot make one): the real worker on workerd through Miniflare, the demo origin
 * behind it, and node:http as the client.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoOrigin, type DemoOrigin } from "../../scripts/demo-origin";
import { bundleShardcache, startRuntime, type Bundle, type Runtime } from "../../scripts/lib/runtime";

let origin: DemoOrigin;
let bundle: Bundle;
let runtime: Runtime;
let base: URL;

beforeAll(async () => {
  origin = await startDemoOrigin(0);
  bundle = await bundleShardcache();
  runtime = await startRuntime(bundle, origin.url, [{ name: "shardcache", config: { settings: { trace: true } } }]);
  base = new URL(runtime.url("shardcache"));
}, 120_000);

afterAll(async () => {
  await runtime?.dispose();
  await bundle?.dispose();
  await origin?.close();
});

/** One raw request with a body, whatever the method. */
function send(method: string, path: string, body: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method, path, headers: { "content-type": "text/plain", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("a GET or HEAD with a body (fat GET)", () => {
  it("is served through the cache like any GET: 50 concurrent ones make 1 origin fetch", async () => {
    const path = `/fat-get-${Date.now().toString(36)}?delay=200`;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => send("GET", path, `body number ${i}`)));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 200));
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(origin.stats().requests[path]).toBe(1);
    const again = await send("GET", path, "another body");
    expect(again.headers["cache-status"]).toMatch(/shardcache-edge;hit/);
    expect(origin.stats().requests[path]).toBe(1);
  });

  it("the body is dropped: the origin never receives it (it could not be part of the key)", async () => {
    const path = `/__echo/fat-${Date.now().toString(36)}`;
    const response = await send("GET", path, "smuggled");
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.text) as { method: string; body: string; headers: Record<string, string> };
    expect(seen).toMatchObject({ method: "GET", body: "" });
    expect(seen.headers["content-length"]).toBeUndefined();
  });

  it("a HEAD with a body is answered from the cache too", async () => {
    const path = `/fat-head-${Date.now().toString(36)}`;
    const first = await send("HEAD", path, "x");
    const second = await send("HEAD", path, "y");
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers["cache-status"]).toMatch(/hit/);
    expect(origin.stats().requests[path]).toBe(1);
  });
});
