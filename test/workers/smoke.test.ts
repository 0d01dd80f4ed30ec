import { SELF } from "cloudflare:test";
import { it, expect } from "vitest";
it("reaches origin", async () => {
  const r = await SELF.fetch("http://example.com/hello", { headers: { "x-h": "v" } });
  expect(await r.text()).toBe("hi /hello".repeat(1));
  expect(r.headers.get("x-key")).toBe("k1");
  expect(r.headers.get("x-h")).toBe("v");
});
