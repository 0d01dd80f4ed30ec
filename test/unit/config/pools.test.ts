/** Pool and monitor schemas: defaults, and errors that name the offending path. */
import { describe, expect, it } from "vitest";
import { headersDeadlineMs, monitorSchema, monitorsSchema, poolSchema, poolsSchema, tcpConnectBoundMs, tcpTarget, unknownMonitorIssues } from "../../../src/config/pools";

const issues = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) => (result.error?.issues ?? []).map((i) => ({ path: i.path.join("."), message: i.message }));

describe("pool schema", () => {
  it("fills every default from a list of URLs", () => {
    expect(poolSchema.parse({ nodes: [{ url: "https://a.example" }] })).toEqual({
      nodes: [{ url: "https://a.example", weight: 1, state: "active", priority: 1 }],
      algorithm: "round-robin",
      connectTimeoutMs: 5000,
      firstByteTimeoutMs: 30_000,
      retries: 2,
      failuresToFail: 3,
      nodeFailTimeSeconds: 60,
      monitors: [],
      priorityMinNodes: 1,
    });
  });

  it("reports a bad URL with its path", () => {
    const found = issues(poolsSchema.safeParse({ web: { nodes: [{ url: "https://a.example" }, { url: "not a url" }] } }));
    expect(found).toEqual([{ path: "web.nodes.1.url", message: "must be an absolute http:// or https:// URL" }]);
    expect(issues(poolsSchema.safeParse({ web: { nodes: [{ url: "ftp://a.example" }] } }))[0]?.path).toBe("web.nodes.0.url");
  });

  it("refuses empty pools, zero weights, unknown keys and duplicate nodes", () => {
    expect(issues(poolSchema.safeParse({ nodes: [] })).map((i) => i.path)).toEqual(["nodes"]);
    expect(issues(poolSchema.safeParse({ nodes: [{ url: "https://a.example", weight: 0 }] })).map((i) => i.path)).toEqual(["nodes.0.weight"]);
    expect(issues(poolSchema.safeParse({ nodes: [{ url: "https://a.example" }], algoritm: "random" }))[0]?.message).toMatch(/algoritm/);
    const dup = issues(poolSchema.safeParse({ nodes: [{ url: "https://a.example" }, { url: "https://a.example" }] }));
    expect(dup).toEqual([{ path: "nodes.1.url", message: "duplicate node https://a.example in this pool" }]);
  });

  it("names an unknown algorithm", () => {
    expect(issues(poolSchema.safeParse({ nodes: [{ url: "https://a.example" }], algorithm: "hash" })).map((i) => i.path)).toEqual(["algorithm"]);
  });
});

describe("monitor schema", () => {
  it("fills every default from an empty object", () => {
    expect(monitorSchema.parse({})).toEqual({
      type: "http",
      method: "GET",
      path: "/",
      expectStatus: { min: 200, max: 399 },
      timeoutMs: 2000,
      intervalSeconds: 10,
      failuresToMarkDown: 3,
      successesToMarkUp: 2,
    });
  });

  it("reports a regex that does not compile with its path and a clear message", () => {
    const found = issues(monitorsSchema.safeParse({ health: { bodyRegex: "ok(" } }));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe("health.bodyRegex");
    expect(found[0]!.message).toMatch(/^not a linear-time \(RE2\) regular expression: /);
    expect(monitorSchema.safeParse({ bodyRegex: "ok\\(" }).success).toBe(true);
  });

  it("refuses an inverted status range, a body check on HEAD and a sub-second interval", () => {
    expect(issues(monitorSchema.safeParse({ expectStatus: { min: 400, max: 200 } })).map((i) => i.path)).toEqual(["expectStatus.max"]);
    expect(issues(monitorSchema.safeParse({ method: "HEAD", bodyRegex: "ok" })).map((i) => i.path)).toEqual(["bodyRegex"]);
    expect(issues(monitorSchema.safeParse({ intervalSeconds: 0 })).map((i) => i.path)).toEqual(["intervalSeconds"]);
    expect(issues(monitorSchema.safeParse({ path: "health" })).map((i) => i.path)).toEqual(["path"]);
  });
});

describe("unknownMonitorIssues", () => {
  it("names pools that refer to a monitor the document does not define", () => {
    const pools = poolsSchema.parse({ web: { nodes: [{ url: "https://a.example" }], monitors: ["http", "tcp"] } });
    const monitors = monitorsSchema.parse({ http: {} });
    expect(unknownMonitorIssues(pools, monitors)).toEqual([{ path: ["pools", "web", "monitors", 1], message: 'no monitor named "tcp"' }]);
  });
});

describe("connect bounds", () => {
  it("adds the connect budget to the first-byte budget for fetches, which cannot bound the connect alone", () => {
    expect(headersDeadlineMs({ connectTimeoutMs: 200, firstByteTimeoutMs: 300 })).toBe(500);
  });

  it("bounds a TCP monitor's connect by the pool's connect timeout, capped by the monitor's timeout", () => {
    expect(tcpConnectBoundMs({ connectTimeoutMs: 5000 }, { timeoutMs: 2000 })).toBe(2000);
    expect(tcpConnectBoundMs({ connectTimeoutMs: 300 }, { timeoutMs: 2000 })).toBe(300);
  });

  it("connects a TCP monitor to the node's host and port, the scheme's default port, or the monitor's port", () => {
    expect(tcpTarget("http://10.0.0.1:8080/app", {})).toEqual({ hostname: "10.0.0.1", port: 8080 });
    expect(tcpTarget("https://a.example", {})).toEqual({ hostname: "a.example", port: 443 });
    expect(tcpTarget("http://a.example", {})).toEqual({ hostname: "a.example", port: 80 });
    expect(tcpTarget("http://[::1]:81", { port: 22 })).toEqual({ hostname: "::1", port: 22 });
  });

  it("refuses a body check on a tcp monitor and a port on an http monitor", () => {
    expect(issues(monitorSchema.safeParse({ type: "tcp", bodyRegex: "ok" })).map((i) => i.path)).toEqual(["bodyRegex"]);
    expect(issues(monitorSchema.safeParse({ port: 80 })).map((i) => i.path)).toEqual(["port"]);
    expect(issues(monitorSchema.safeParse({ type: "tcp", port: 70_000 })).map((i) => i.path)).toEqual(["port"]);
  });
});

describe("failpools and session persistence", () => {
  const node = { nodes: [{ url: "https://a.example" }] };
  it("resolves a failpool chain in order and refuses loops and unknown names", async () => {
    const { failpoolChain } = await import("../../../src/config/pools");
    const pools = poolsSchema.parse({ a: { ...node, failpool: "b" }, b: { ...node, failpool: "c" }, c: node });
    expect(failpoolChain("a", pools)).toEqual(["b", "c"]);
    expect(failpoolChain("c", pools)).toEqual([]);
    expect(issues(poolsSchema.safeParse({ a: { ...node, failpool: "b" }, b: { ...node, failpool: "a" } })).map((i) => i.path)).toEqual(["a.failpool", "b.failpool"]);
    expect(issues(poolsSchema.safeParse({ a: { ...node, failpool: "zz" } }))).toEqual([{ path: "a.failpool", message: 'no pool named "zz"' }]);
  });

  it("takes cookie or client-ip persistence and refuses a cookie name that is not a token", () => {
    expect(poolSchema.parse({ ...node, sessionPersistence: { mode: "cookie" } }).sessionPersistence).toEqual({ mode: "cookie", cookieName: "shardcache_node" });
    expect(poolSchema.parse({ ...node, sessionPersistence: { mode: "client-ip" } }).sessionPersistence).toEqual({ mode: "client-ip" });
    for (const cookieName of ["a b", "a;b", "x".repeat(65), ""]) expect(poolSchema.safeParse({ ...node, sessionPersistence: { mode: "cookie", cookieName } }).success).toBe(false);
    expect(poolSchema.safeParse({ ...node, sessionPersistence: { mode: "sticky" } }).success).toBe(false);
  });
});
