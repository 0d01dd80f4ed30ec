/**
 * Rule depth on workerd: header and cookie conditions (present / absent / glob / regex) pick the
 * requests they should, hostile values (huge, encoded, built to make a backtracking regex explode)
 * neither match by accident nor stall the worker; rules match on an SLM class's state.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { originCount, uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    // Ten slow responses for the class; the SlmMonitor's alarm judges it serious.
    const monitor = env.SLM_MONITOR.get(env.SLM_MONITOR.idFromName("slm"));
    await monitor.record(classes, [{ cls: slm, within: 0, total: 10, stats: { count: 10, sumMs: 5000, minMs: 500, maxMs: 500, buckets: {} } }]);
    let serious = false;
    for (let i = 0; i < 40 && !serious; i++) {
      await sleep(100);
      serious = (await monitor.snapshot(classes)).states[slm]?.state === "serious";
    }
    expect(serious).toBe(true);
    // The edge refreshes its copy of the states in the background (memo 0 in tests): a later request sees serious.
    let applied = false;
    for (let i = 0; i < 20 && !applied; i++) {
      const path = `${prefix}/during-${i}`;
      applied = await passed(path);
    }
    expect(applied).toBe(true);
  });
});
