import { describe, expect, it } from "vitest";
import { finalAfterInterim, isInterim, OriginFramingError } from "../../../src/origin/interim";

/** What workerd's fetch() resolves with after a 103: the 103, with the rest of the exchange as its body. */
function interimWith(rest: string, pieces = 1): Response {
  const bytes = new TextEncoder().encode(rest);
  const step = Math.max(1, Math.ceil(bytes.byteLength / pieces));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.byteLength; i += step) controller.enqueue(bytes.slice(i, i + step));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { link: "</a.css>; rel=preload" } }); // Node's Response refuses 1xx too
}

describe("isInterim (RFC 9110 §15.2)", () => {
  it.each<[number, boolean]>([
    [100, true],
    [102, true],
    [103, true],
    [101, false],
    [199, true],
    [200, false],
    [304, false],
  ])("%i → %s", (status, expected) => {
    expect(isInterim(status)).toBe(expected);
  });
});

describe("finalAfterInterim: the final response after 1xx (RFC 9112 §6.3, §7.1)", () => {
  it.each<[string, string, number, string, Record<string, string | null>]>([
    ["Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncache-control: max-age=60\r\n\r\nhelloEXTRA", 200, "hello", { "cache-control": "max-age=60", "content-length": "5" }],
    ["chunked, with an extension and a trailer", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n", 200, "hello world", { "transfer-encoding": null }],
    ["close-delimited", "HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nto the end", 200, "to the end", { "x-a": "1" }],
    ["another interim first", "HTTP/1.1 103 Early Hints\r\nlink: </b.css>\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno", 404, "no", {}],
    ["LF-only line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, "ok", {}],
    ["a 204 has no body", "HTTP/1.1 204 No Content\r\ncache-control: max-age=9\r\n\r\n", 204, "", { "cache-control": "max-age=9" }],
    ["repeated field lines stay apart", "HTTP/1.1 200 OK\r\nage: 10\r\nage: 20\r\ncontent-length: 0\r\n\r\n", 200, "", { age: "10, 20" }],
  ])("%s", async (_name, raw, status, text, fields) => {
    for (const pieces of [1, 7, raw.length]) {
      const final = await finalAfterInterim(interimWith(raw, pieces), "GET");
      expect(final.status).toBe(status);
      expect(await final.text()).toBe(text);
      for (const [name, value] of Object.entries(fields)) expect(final.headers.get(name)).toBe(value);
    }
  });

  it("a HEAD answer has no body", async () => {
    const final = await finalAfterInterim(interimWith("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"), "HEAD");
    expect(final.body).toBeNull();
    expect(final.headers.get("content-length")).toBe("5");
  });

  it.each<[string, string]>([
    ["no status line", "garbage\r\n\r\n"],
    ["empty", ""],
    ["a head that never ends", "HTTP/1.1 200 OK\r\nx: 1\r\n"],
    ["an invalid field line", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"],
    ["an unsupported transfer coding", "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n"],
    ["an invalid Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: 5, 6\r\n\r\nhello"],
    ["a final 1xx-only exchange", "HTTP/1.1 103 Early Hints\r\n\r\n"],
    ["a head over the bound", `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`],
    ["too many interim responses", "HTTP/1.1 100 Continue\r\n\r\n".repeat(10) + "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
  ])("refuses %s (→ a bad origin, 502)", async (_name, raw) => {
    await expect(finalAfterInterim(interimWith(raw), "GET")).rejects.toBeInstanceOf(OriginFramingError);
  });

  it.each<[string, string]>([
    ["shorter than its Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"],
    ["a truncated chunked body", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nshort"],
    ["an invalid chunk size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"],
  ])("a body %s errors the stream", async (_name, raw) => {
    const final = await finalAfterInterim(interimWith(raw), "GET");
    await expect(final.text()).rejects.toBeInstanceOf(OriginFramingError);
  });
});
