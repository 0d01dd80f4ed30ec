/**
 * The dashboard's assets through the real worker: served without the token (they hold no data),
 * with a strict CSP that forbids framing and any other origin, and the data endpoints it uses behind
 * the token.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { admin } from "../helpers/admin";
import { advanceTime, now } from "../helpers/clock";

const BASE = "http://cache.test/_shardcache";

describe("dashboard assets", () => {
  it("serve the page, its script and its stylesheet with a strict Content-Security-Policy", async () => {
    for (const [path, type] of [
      ["/ui", "text/html"],
      ["/ui/app.js", "text/javascript"],
      ["/ui/app.css", "text/css"],
    ] as const) {
      const response = await SELF.fetch(`${BASE}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toContain(type);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const body = await response.text();
      expect(body.length, path).toBeGreaterThan(500);
      // No third-party host anywhere in what the page loads (everything is bundled).
      if (path === "/ui") expect(body).not.toMatch(/(src|href)="https?:/);
    }
  });

  it("follows the admin prefix setting", async () => {
    await putConfig({ settings: { adminPrefix: "/ops" } });
    const html = await (await SELF.fetch("http://cache.test/ops/ui")).text();
    expect(html).toContain('<script defer src="/ops/ui/app.js"></script>');
    expect(html).toContain('<meta name="shardcache-api" content="/ops">');
  });

  it("refuses methods other than GET and HEAD, and keeps the data endpoints behind the token", async () => {
    expect((await SELF.fetch(`${BASE}/ui`, { method: "POST" })).status).toBe(405);
    expect((await SELF.fetch(`${BASE}/pools`)).status).toBe(401);
    expect((await SELF.fetch(`${BASE}/series`)).status).toBe(401);
  });
});

describe("GET /pools", () => {
  it("lists each pool's nodes with their configured state and health", async () => {
    await putConfig({ pools: { web: { nodes: [{ url: "http://127.0.0.1:9/" }, { url: "http://127.0.0.2:9/", state: "draining" }] } } });
    const { status, body } = await admin("GET", "/pools");
    expect(status).toBe(200);
    expect(body.pools).toMatchObject([
      {
        name: "web",
        algorithm: "round-robin",
        nodes: [
          { url: "http://127.0.0.1:9/", state: "active", weight: 1, lastProbeAt: null },
          { url: "http://127.0.0.2:9/", state: "draining", weight: 1, lastProbeAt: null },
        ],
      },
    ]);
    // Before the cron pushed these pools to the HealthMonitor it knows nothing of them (null); after, "no data yet" and healthy.
    for (const node of body.pools[0].nodes) expect([null, true]).toContain(node.healthy);
  });
});

describe("GET /series", () => {
  it("has one point per minute for the window asked, the current minute last", async () => {
    // Just after a minute begins, so the request and the read fall in one minute (they straddled one now and then).
    await advanceTime(60_000 - (now() % 60_000) + 100);
    await (await SELF.fetch("http://cache.test/series-probe?size=10")).arrayBuffer();
    const { body } = await admin("GET", "/series?minutes=5");
    expect(body.points).toHaveLength(5);
    expect(body.to - body.from).toBe(4);
    const last = body.points.at(-1);
    expect(last.minute).toBe(body.to);
    expect(last.requests).toBeGreaterThanOrEqual(1);
  });
});
