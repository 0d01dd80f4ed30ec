import { describe, expect, it } from "vitest";
import { postResponseStorableAsGet } from "../../../src/rfc9111";
import { HTTP_T0, httpDate, req, res } from "./fixtures";

const URL = "https://example.com/items/1?x=1";
const post = (headers: Record<string, string> = {}) => req(headers, "POST", URL);
const fresh = { date: HTTP_T0, "cache-control": "max-age=60" };

describe("postResponseStorableAsGet (RFC 9110 §9.3.3, RFC 9111 §3, §4)", () => {
  it.each<[string, ReturnType<typeof req>, Record<string, string>, number, boolean]>([
    ["Content-Location equal to the target URI, max-age", post(), { ...fresh, "content-location": URL }, 200, true],
    ["a relative Content-Location that resolves to the target URI", post(), { ...fresh, "content-location": "/items/1?x=1" }, 200, true],
    ["s-maxage is explicit freshness", post(), { date: HTTP_T0, "cache-control": "s-maxage=60", "content-location": URL }, 200, true],
    ["Expires is explicit freshness", post(), { date: HTTP_T0, expires: httpDate(60), "content-location": URL }, 200, true],
    ["a fragment does not make it another URI", post(), { ...fresh, "content-location": `${URL}#top` }, 200, true],
    ["no Content-Location", post(), fresh, 200, false],
    ["Content-Location names another resource", post(), { ...fresh, "content-location": "/items/2" }, 200, false],
    ["another query", post(), { ...fresh, "content-location": "/items/1?x=2" }, 200, false],
    ["another origin", post(), { ...fresh, "content-location": "https://other.example/items/1?x=1" }, 200, false],
    ["an unparseable Content-Location", post(), { ...fresh, "content-location": "http://[" }, 200, false],
    ["no explicit freshness (heuristics do not count)", post(), { date: HTTP_T0, "last-modified": httpDate(-3600), "content-location": URL }, 200, false],
    ["PUT is not POST", req({}, "PUT", URL), { ...fresh, "content-location": URL }, 200, false],
    ["GET is not this path", req({}, "GET", URL), { ...fresh, "content-location": URL }, 200, false],
  ])("%s → %s", (_name, request, headers, status, expected) => {
    const asGet = postResponseStorableAsGet(request, res(status, headers));
    expect(asGet !== null).toBe(expected);
    if (asGet !== null) expect(asGet).toMatchObject({ method: "GET", url: URL });
  });
});
