/**
 * Rule depth on workerd: header and cookie conditions (present / absent / glob / regex) pick the
 * requests they should, hostile values (huge, encoded, built to make a backtracking regex explode)
 * neither match by accident nor stall the worker; rules match on an SLM class's state; request
 * actions (redirect, deny, rewrite, request header edits) act before the key, with no open redirect.
 */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { originCount, uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";

async function fetchTwice(path: string, init?: RequestInit): Promise<Response> {
  await (await SELF.fetch(`${BASE}${path}`, init)).arrayBuffer();
  const second = await SELF.fetch(`${BASE}${path}`, init);
  await second.arrayBuffer();
  return second;
}

/** Whether `path` with `init` was passed by the rule (the origin saw both requests) rather than cached. */
async function passed(path: string, init?: RequestInit): Promise<boolean> {
  await fetchTwice(path, init);
  return (await originCount(path)) === 2;
}

describe("header and cookie conditions", () => {
  it.each<[string, Record<string, unknown>, RequestInit, RequestInit]>([
    ["header glob (User-Agent class)", { headers: { "User-Agent": { glob: "*Mobile*" } } }, { headers: { "user-agent": "Mozilla/5.0 (iPhone) Mobile/15E148" } }, { headers: { "user-agent": "Mozilla/5.0 (X11; Linux)" } }],
    ["header regex", { headers: { "user-agent": { regex: "(?i)bot|crawler" } } }, { headers: { "user-agent": "Googlebot/2.1" } }, { headers: { "user-agent": "Firefox/130" } }],
    ["header absent", { headers: { "accept-language": { present: false } } }, {}, { headers: { "accept-language": "nl" } }],
    ["cookie glob", { cookies: { ab: { glob: "variant-?" } } }, { headers: { cookie: "x=1; ab=variant-b" } }, { headers: { cookie: "ab=variant-bb" } }],
    ["cookie regex", { cookies: { plan: { regex: "^(pro|team)$" } } }, { headers: { cookie: "plan=team" } }, { headers: { cookie: "plan=free" } }],
  ])("%s: matching requests pass, others are cached", async (_name, match, matching, other) => {
    const prefix = uniquePath("cond");
    await putConfig({ rules: [{ match: { path: `${prefix}/**`, ...match }, actions: { pass: true } }] });
    expect(await passed(`${prefix}/a`, matching)).toBe(true);
    expect(await passed(`${prefix}/b`, other)).toBe(false);
  });

  it("hostile: an 8 kB value built to make (a+)+$ backtrack, and encoded cookie values, neither match nor stall", async () => {
    const prefix = uniquePath("cond-hostile");
    await putConfig({
      rules: [
        { match: { path: `${prefix}/**`, headers: { "x-probe": { regex: "^(a+)+$" } } }, actions: { pass: true } },
        { match: { path: `${prefix}/**`, cookies: { role: "admin" } }, actions: { pass: true } },
      ],
    });
    const started = Date.now();
    expect(await passed(`${prefix}/a`, { headers: { "x-probe": `${"a".repeat(8_000)}!` } })).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await passed(`${prefix}/b`, { headers: { "x-probe": "a".repeat(8_000) } })).toBe(true);
    expect(await passed(`${prefix}/c`, { headers: { cookie: "role=%61dmin" } })).toBe(false);
    expect(await passed(`${prefix}/d`, { headers: { cookie: "role=admin" } })).toBe(true);
  });

  it("a regex the linear-time engine cannot run is refused when the config is pushed", async () => {
    const response = await SELF.fetch(`${BASE}/_shardcache/config/validate`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: JSON.stringify({ rules: [{ match: { headers: { "x-a": { regex: "^(a)\\1$" } } }, actions: { pass: true } }] }),
    });
    const body = (await response.json()) as { errors: { path: string; message: string }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.path).toBe('rules[0].match.headers["x-a"].regex');
    expect(body.errors[0]!.message).toMatch(/linear-time/);
  });
});

describe("SLM state conditions", () => {
  it("a rule on an SLM class's state applies while the class is serious, from the isolate's cached states", async () => {
    const slm = `rule-slm-${Date.now().toString(36)}`;
    const prefix = uniquePath("slm-rule");
    const classes = { [slm]: { targetMs: 100, minSamples: 5, windowSeconds: 30, warningPercent: 95, seriousPercent: 80 } };
    await putConfig({ slmClasses: classes, rules: [{ match: { path: `${prefix}/**`, slm: { [slm]: "serious" } }, actions: { pass: true } }] });
    // ok: the rule does not apply, the object is cached.
    expect(await passed(`${prefix}/before`)).toBe(false);
    // Ten slow responses for the class.
    const monitor = env.SLM_MONITOR.get(env.SLM_MONITOR.idFromName("slm"));
    await monitor.record(classes, [{ cls: slm, within: 0, total: 10, stats: { count: 10, sumMs: 5000, minMs: 500, maxMs: 500, buckets: {} } }]);
    // Its alarm (due within a second while a window holds samples) judges them; run it now rather than wait.
    await runDurableObjectAlarm(monitor);
    expect((await monitor.snapshot(classes)).states[slm]?.state).toBe("serious");
    // The edge refreshes its copy of the states in the background (memo 0 in tests): a later request sees serious.
    let applied = false;
    for (let i = 0; i < 20 && !applied; i++) {
      const path = `${prefix}/during-${i}`;
      applied = await passed(path);
    }
    expect(applied).toBe(true);
  });
});

describe("request actions", () => {
  it("redirect: status and a location from the request path and query, answered at the edge", async () => {
    const prefix = uniquePath("redirect");
    await putConfig({ rules: [{ name: "moved", match: { path: `${prefix}/old/**` }, actions: { redirect: { status: 301, location: `${prefix}/new\${path}\${query}` } } }] });
    const response = await SELF.fetch(`${BASE}${prefix}/old/a?x=1`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe(`${prefix}/new${prefix}/old/a?x=1`);
    expect(response.headers.get("cache-status")).toMatch(/shardcache-edge;fwd=bypass;detail=rule-redirect/);
    expect(await originCount(`${prefix}/old/a?x=1`)).toBe(0);
  });

  it("hostile: no open redirect through a forged Host, //evil.com, \\\\evil.com, CR/LF or a huge path", async () => {
    const prefix = uniquePath("redirect-hostile");
    await putConfig({
      rules: [
        { match: { path: `${prefix}/climb/**` }, actions: { redirect: { location: `${prefix}/climb/../..\${path}` } } },
        { match: {}, actions: { redirect: { location: "/moved${path}${query}" } } },
      ],
    });
    const onThisOrigin = (location: string | null) => location?.startsWith("/") === true && !location!.startsWith("//") && !location!.includes("\\") && new URL(location!, BASE).origin === BASE;
    // A forged Host never reaches the location (it is sent as a relative reference).
    const forged = await SELF.fetch(`${BASE}/a`, { redirect: "manual", headers: { host: "evil.example", "x-forwarded-host": "evil.example" } });
    expect(forged.headers.get("location")).toBe("/moved/a");
    for (const path of ["//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example", `${prefix}/climb//evil.example`, `${prefix}/climb/..//evil.example`]) {
      const response = await SELF.fetch(`${BASE}${path}`, { redirect: "manual" });
      expect(response.status === 400 || onThisOrigin(response.headers.get("location")), `${path} → ${response.status} ${response.headers.get("location")}`).toBe(true);
    }
    const crlf = await SELF.fetch(`${BASE}/a%0d%0aSet-Cookie:%20x=1?q=%0d%0a`, { redirect: "manual" });
    // Still percent-encoded (the edge normalises the escapes' case): no raw CR/LF, no injected field.
    expect(crlf.headers.get("location")).toMatch(/^\/moved\/a%0d%0aSet-Cookie:%20x=1\?q=%0d%0a$/i);
    expect(crlf.headers.get("set-cookie")).toBeNull();
    const huge = await SELF.fetch(`${BASE}/${"a".repeat(9_000)}`, { redirect: "manual" });
    expect(huge.status).toBe(414);
    expect(huge.headers.get("location")).toBeNull();
  });

  it("hostile: a template that could leave the origin is refused when the config is pushed", async () => {
    for (const location of ["${path}", "/${path}", "//evil.example${path}", "/\\evil.example", "https://${query}/", "/a${header.host}"]) {
      const response = await SELF.fetch(`${BASE}/_shardcache/config/validate`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
        body: JSON.stringify({ rules: [{ match: {}, actions: { redirect: { location } } }] }),
      });
      expect(response.status, location).toBe(400);
    }
  });

  it("deny: the configured status and body, no origin request; HEAD gets no body", async () => {
    const prefix = uniquePath("deny");
    await putConfig({ rules: [{ name: "block", match: { path: `${prefix}/**`, headers: { "user-agent": { regex: "(?i)badbot" } } }, actions: { deny: { status: 451, body: "not here\n" } } }] });
    const denied = await SELF.fetch(`${BASE}${prefix}/a`, { headers: { "user-agent": "BadBot/1.0" } });
    expect(denied.status).toBe(451);
    expect(await denied.text()).toBe("not here\n");
    expect(denied.headers.get("cache-status")).toMatch(/detail=rule-deny/);
    const head = await SELF.fetch(`${BASE}${prefix}/a`, { method: "HEAD", headers: { "user-agent": "BadBot/1.0" } });
    expect(head.status).toBe(451);
    expect(await head.text()).toBe("");
    expect(await originCount(`${prefix}/a`)).toBe(0);
    expect(await passed(`${prefix}/b`, { headers: { "user-agent": "Firefox" } })).toBe(false);
  });

  it("rewrite: the path is changed before the cache key is built, so the old and new URL share one entry", async () => {
    const prefix = uniquePath("rewrite");
    await putConfig({ rules: [{ match: { path: `${prefix}/old/**` }, actions: { rewrite: { path: `${prefix}/new\${path}` } } }] });
    const first = await SELF.fetch(`${BASE}${prefix}/old/a?x=1`);
    await first.arrayBuffer();
    expect(await originCount(`${prefix}/new${prefix}/old/a?x=1`)).toBe(1);
    expect(await originCount(`${prefix}/old/a?x=1`)).toBe(0);
    const direct = await SELF.fetch(`${BASE}${prefix}/new${prefix}/old/a?x=1`);
    await direct.arrayBuffer();
    expect(direct.headers.get("cache-status")).toMatch(/hit/);
    expect(await originCount(`${prefix}/new${prefix}/old/a?x=1`)).toBe(1);
  });

  it("rewrite host and request header set / remove reach the origin", async () => {
    const prefix = uniquePath("rewrite-echo");
    await putConfig({ rules: [{ match: { path: `/__echo${prefix}/**` }, actions: { rewrite: { host: "internal.example" }, setRequestHeaders: { "X-Variant": "b" }, removeRequestHeaders: ["x-drop"] } }] });
    // Hostile: the client's own Host and X-Forwarded-Host do not win over the rule's host.
    const response = await SELF.fetch(`${BASE}/__echo${prefix}/a`, { headers: { "x-drop": "secret", "x-keep": "1", "x-forwarded-host": "evil.example" } });
    const echoed = (await response.json()) as { headers: Record<string, string> };
    expect(echoed.headers["x-forwarded-host"]).toBe("internal.example");
    expect(echoed.headers["x-variant"]).toBe("b");
    expect(echoed.headers["x-drop"]).toBeUndefined();
    expect(echoed.headers["x-keep"]).toBe("1");
  });
});

describe("response rules", () => {
  /** Fetches `path` twice; how many of the two the origin saw. */
  async function originSaw(path: string): Promise<number> {
    await fetchTwice(path);
    return originCount(path);
  }

  it("status: a 404 without freshness is stored under a response rule's ttl; the same 404 elsewhere is not", async () => {
    const prefix = uniquePath("resp-status");
    await putConfig({ rules: [{ name: "short-404", match: { path: `${prefix}/rule/**`, response: { status: [404, { min: 410, max: 410 }] } }, actions: { ttl: 60 } }] });
    expect(await originSaw(`${prefix}/rule/a?status=404&cc=`)).toBe(1);
    expect(await originSaw(`${prefix}/other/a?status=404&cc=`)).toBe(2);
    // A 200 under the same rule's request conditions keeps its own (absent) freshness.
    expect(await originSaw(`${prefix}/rule/b?cc=`)).toBe(2);
  });

  it("content type and response headers: cache: false keeps a cacheable response out; a header condition forces a ttl", async () => {
    const prefix = uniquePath("resp-type");
    await putConfig({
      rules: [
        { name: "no-json", match: { path: `${prefix}/**`, response: { contentType: "application/*" } }, actions: { cache: false } },
        { name: "opt-in", match: { path: `${prefix}/**`, response: { headers: { "X-Cacheable": { exact: "yes" } } } }, actions: { ttl: 60, setResponseHeaders: { "x-cached-by": "rule" } } },
      ],
    });
    const json = `${prefix}/j?h-content-type=application%2Fjson`;
    const first = await SELF.fetch(`${BASE}${json}`);
    await first.arrayBuffer();
    expect(first.headers.get("cache-status")).toMatch(/shardcache-shard;fwd=uri-miss;fwd-status=200;stored=\?0;detail=rule/);
    await (await SELF.fetch(`${BASE}${json}`)).arrayBuffer();
    expect(await originCount(json)).toBe(2);
    const optIn = `${prefix}/o?cc=&h-x-cacheable=yes`;
    const hit = await fetchTwice(optIn);
    expect(await originCount(optIn)).toBe(1);
    expect(hit.headers.get("x-cached-by")).toBe("rule");
    expect(await originSaw(`${prefix}/n?cc=&h-x-cacheable=YES`)).toBe(2);
  });

  it("keeps RFC 9111 §3: a response rule's ttl stores neither a private nor a Set-Cookie response; ignorePrivate (DANGEROUS) does", async () => {
    const prefix = uniquePath("resp-trust");
    await putConfig({
      rules: [
        { match: { path: `${prefix}/dangerous/**`, response: { status: 200 } }, actions: { ttl: 60, ignorePrivate: true } },
        { match: { path: `${prefix}/**`, response: { status: 200 } }, actions: { ttl: 60 } },
      ],
    });
    expect(await originSaw(`${prefix}/p?cc=private`)).toBe(2);
    expect(await originSaw(`${prefix}/c?h-set-cookie=s%3D1`)).toBe(2);
    expect(await originSaw(`${prefix}/dangerous/p?cc=private`)).toBe(1);
  });

  it("hostile: an origin header built to make a backtracking regex explode is matched in linear time and does not match", async () => {
    const prefix = uniquePath("resp-hostile");
    await putConfig({ rules: [{ match: { path: `${prefix}/**`, response: { headers: { "x-h": { regex: "^(a|aa)+$" } } } }, actions: { ttl: 60 } }] });
    const started = Date.now();
    expect(await originSaw(`${prefix}/a?cc=&h-x-h=${"a".repeat(6_000)}!`)).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await originSaw(`${prefix}/b?cc=&h-x-h=${"a".repeat(6_000)}`)).toBe(1);
  });
});
