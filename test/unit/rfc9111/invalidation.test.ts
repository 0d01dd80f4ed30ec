import { describe, expect, it } from "vitest";
import { invalidationTargets } from "../../../src/rfc9111";
import { req, res } from "./fixtures";

const TARGET = "https://example.com/items/1?x=1";

describe("invalidationTargets (RFC 9111 §4.4)", () => {
  it.each<[string, string, number, Record<string, string>, string[]]>([
    ["POST 200 invalidates the target", "POST", 200, {}, [TARGET]],
    ["PUT 204", "PUT", 204, {}, [TARGET]],
    ["DELETE 202", "DELETE", 202, {}, [TARGET]],
    ["PATCH 303", "PATCH", 303, {}, [TARGET]],
    ["unknown method counts as unsafe", "PURGE", 200, {}, [TARGET]],
    ["GET is safe", "GET", 200, {}, []],
    ["HEAD is safe", "HEAD", 200, {}, []],
    ["OPTIONS is safe", "OPTIONS", 200, {}, []],
    ["TRACE is safe", "TRACE", 200, {}, []],
    ["4xx is an error", "POST", 404, {}, []],
    ["5xx is an error", "POST", 500, {}, []],
    ["1xx is not a final success", "POST", 100, {}, []],
    ["relative Location", "POST", 201, { location: "/items/2" }, [TARGET, "https://example.com/items/2"]],
    ["absolute same-origin Content-Location", "PUT", 200, { "content-location": "https://example.com/items/1.json" }, [TARGET, "https://example.com/items/1.json"]],
    ["both, deduplicated", "POST", 201, { location: "/items/2", "content-location": "/items/2" }, [TARGET, "https://example.com/items/2"]],
    ["Location equal to the target is not repeated", "POST", 200, { location: TARGET }, [TARGET]],
    ["cross-origin Location is ignored", "POST", 201, { location: "https://evil.example/items/2" }, [TARGET]],
    ["other scheme is another origin", "POST", 201, { location: "http://example.com/items/2" }, [TARGET]],
    ["other port is another origin", "POST", 201, { location: "https://example.com:8443/items/2" }, [TARGET]],
    ["fragments are dropped", "POST", 201, { location: "/items/2#frag" }, [TARGET, "https://example.com/items/2"]],
    ["unparseable Location is ignored", "POST", 201, { location: "http://[bad" }, [TARGET]],
  ])("%s", (_name, method, status, headers, expected) => {
    expect(invalidationTargets(req({}, method, TARGET), res(status, headers))).toEqual(expected);
  });

  it("an unparseable request URL yields nothing", () => {
    expect(invalidationTargets(req({}, "POST", "not a url"), res(200))).toEqual([]);
  });
});
