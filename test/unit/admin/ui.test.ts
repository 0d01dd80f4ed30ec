import { describe, expect, it } from "vitest";
import { dashboardResponse, UI_CSP } from "../../../src/admin/ui";

describe("dashboardResponse", () => {
  it("escapes the prefix for the HTML attribute it is written into (output injection)", async () => {
    const html = await dashboardResponse('/x"><script>alert(1)</script>/ui', '/x"><script>alert(1)</script>', "GET")!.text();
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toContain("/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/ui/app.js");
  });

  it("answers only the three dashboard paths", () => {
    expect(dashboardResponse("/_shardcache/ui", "/_shardcache", "GET")?.status).toBe(200);
    expect(dashboardResponse("/_shardcache/ui/", "/_shardcache", "GET")?.status).toBe(200);
    expect(dashboardResponse("/_shardcache/ui/app.js", "/_shardcache", "HEAD")?.status).toBe(200);
    expect(dashboardResponse("/_shardcache/ui/other.js", "/_shardcache", "GET")).toBeNull();
    expect(dashboardResponse("/_shardcache/stats", "/_shardcache", "GET")).toBeNull();
  });

  it("has a policy that forbids framing, inline script and other origins", () => {
    expect(UI_CSP).toContain("frame-ancestors 'none'");
    expect(UI_CSP).not.toMatch(/unsafe|\*|https?:/);
  });
});
