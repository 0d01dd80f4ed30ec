/**
 * Hostile requests that only raw HTTP can send (a Request object cannot carry a body on GET, so the
 * workers pool cannot make one): the real worker on workerd through Miniflare, the demo origin
 * behind it, and node:http as the client.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
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

/** One raw request written byte for byte (framing node:http would not send), answered with Connection: close. */
function sendRaw(head: string, body: string): Promise<{ status: number; head: string; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname, () => socket.end(`${head}Host: ${base.host}\r\nConnection: close\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      const [head = "", ...rest] = Buffer.concat(chunks).toString("utf8").split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), head, text: rest.join("\r\n\r\n") });
    });
    socket.on("error", reject);
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

  it.each([
    ["Content-Length: 0", "Content-Length: 0\r\n", ""],
    ["an empty chunked body", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n"],
  ])("framing without content (%s) is a GET like any other: cached, and the origin sees no framing", async (_, framing, body) => {
    const path = `/framing-${Date.now().toString(36)}-${framing.length}`;
    const answers = [await sendRaw(`GET ${path} HTTP/1.1\r\n${framing}`, body), await sendRaw(`GET ${path} HTTP/1.1\r\n${framing}`, body)];
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[1]!.head).toMatch(/cache-status: [^\r]*shardcache-edge;hit/i);
    expect(origin.stats().requests[path]).toBe(1);
    const echoed = await sendRaw(`GET /__echo${path} HTTP/1.1\r\n${framing}`, body);
    // The echo's JSON is the last part of the (possibly chunked) answer.
    const seen = JSON.parse(echoed.text.slice(echoed.text.indexOf("{"), echoed.text.lastIndexOf("}") + 1)) as { headers: Record<string, string> };
    expect(seen.headers["content-length"]).toBeUndefined();
    expect(seen.headers["transfer-encoding"]).toBeUndefined();
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
