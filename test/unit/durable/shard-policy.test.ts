import { describe, expect, it } from "vitest";
import { withResponseHeaderEdits } from "../../../durable/shard-policy";

/** Set-Cookie fields one by one (iteration keeps them separate; the workers types lack getSetCookie). */
const setCookies = (headers: Headers): string[] => [...headers].filter(([name]) => name === "set-cookie").map(([, value]) => value);

describe("withResponseHeaderEdits", () => {
  it("removes then sets, on a copy", async () => {
    const original = new Response("body", { status: 203, statusText: "Edited", headers: { "cache-control": "private", "x-powered-by": "php", "x-keep": "1" } });
    original.headers.append("set-cookie", "a=1");
    original.headers.append("set-cookie", "b=2");
    const edited = withResponseHeaderEdits(original, {
      remove: ["Set-Cookie", "x-powered-by", "cache-control"],
      set: { "Cache-Control": "public, max-age=60" },
    });
    expect(edited.headers.get("cache-control")).toBe("public, max-age=60");
    expect(edited.headers.has("x-powered-by")).toBe(false);
    expect(setCookies(edited.headers)).toEqual([]);
    expect(edited.headers.get("x-keep")).toBe("1");
    expect([edited.status, edited.statusText]).toEqual([203, "Edited"]);
    expect(await edited.text()).toBe("body");
    expect(original.headers.get("cache-control")).toBe("private");
    expect(setCookies(original.headers)).toEqual(["a=1", "b=2"]);
  });

  it("keeps multiple Set-Cookie fields intact when they are not removed", () => {
    const original = new Response(null, {
      headers: [
        ["set-cookie", "a=1; Path=/"],
        ["set-cookie", "b=2"],
      ],
    });
    expect(setCookies(withResponseHeaderEdits(original, { set: { "x-a": "1" } }).headers)).toEqual(["a=1; Path=/", "b=2"]);
  });

  it("returns the response itself when there is nothing to edit", () => {
    const original = new Response("x");
    expect(withResponseHeaderEdits(original, undefined)).toBe(original);
    expect(withResponseHeaderEdits(original, { set: {}, remove: [] })).toBe(original);
  });
});
