import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliIo } from "../../../scripts/cli";

let dir: string;
let broken: string;
let valid: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shardcache-cli-"));
  broken = join(dir, "broken.json");
  valid = join(dir, "valid.json");
  await writeFile(broken, JSON.stringify({ settings: { primaries: 0, colour: "blue" }, rules: [{ match: { path: "/a" }, actions: { edgeTtl: -1 } }] }));
  await writeFile(valid, JSON.stringify({ settings: { trace: true } }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io(fetchImpl?: typeof fetch) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: { url: string; init: RequestInit }[] = [];
  const fake: CliIo = {
    fetch: (fetchImpl ?? ((async () => Promise.reject(new TypeError("fetch failed"))) as unknown as typeof fetch)) as typeof fetch,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  const wrapped: CliIo = { ...fake, fetch: (async (url: string, init: RequestInit) => (calls.push({ url, init }), fake.fetch(url, init))) as unknown as typeof fetch };
  return { io: wrapped, out, err, calls };
}

describe("cli", () => {
  it("config validate: a broken file exits 1 with one `path: message` line per error, offline", async () => {
    const t = io();
    expect(await runCli(["config", "validate", broken], {}, t.io)).toBe(1);
    expect(t.err).toEqual(expect.arrayContaining([expect.stringMatching(/^settings\.primaries: /), expect.stringMatching(/^settings\.colour: unknown key$/), expect.stringMatching(/^rules\[0\]\.actions\.edgeTtl: /)]));
    expect(t.calls).toEqual([]);
    const good = io();
    expect(await runCli(["config", "validate", valid], {}, good.io)).toBe(0);
  });

  it("config push validates first and uploads nothing when invalid; a valid file is PUT with the token", async () => {
    const bad = io();
    expect(await runCli(["config", "push", broken], {}, bad.io)).toBe(1);
    expect(bad.calls).toEqual([]);
    const good = io((async () => new Response(JSON.stringify({ ok: true, version: "abcd1234" }))) as unknown as typeof fetch);
    expect(await runCli(["--url", "https://w.example", "--token", "T", "config", "push", valid], {}, good.io)).toBe(0);
    expect(good.calls[0]!.url).toBe("https://w.example/_shardcache/config");
    expect(good.calls[0]!.init.method).toBe("PUT");
    expect((good.calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer T");
    expect(good.out.join("\n")).toMatch(/abcd1234/);
  });

  it("exits 1 with a clear message on HTTP errors and when the worker is unreachable, 2 on usage errors", async () => {
    const unauthorized = io((async () => new Response(JSON.stringify({ ok: false, error: "invalid bearer token" }), { status: 401 })) as unknown as typeof fetch);
    expect(await runCli(["stats"], {}, unauthorized.io)).toBe(1);
    expect(unauthorized.err.join("\n")).toMatch(/HTTP 401 .*invalid bearer token.*--token/);
    const down = io();
    expect(await runCli(["stats"], {}, down.io)).toBe(1);
    expect(down.err.join("\n")).toMatch(/cannot reach http:\/\/127\.0\.0\.1:8787\/_shardcache\/stats/);
    const usage = io();
    expect(await runCli(["purge"], {}, usage.io)).toBe(2);
    expect(usage.err.join("\n")).toMatch(/usage: npm run cli/);
  });

  it("config validate names the line and column of a JSON syntax error", async () => {
    const file = join(dir, "syntax.json");
    await writeFile(file, '{\n  "settings": {\n    "trace": true,\n  }\n}\n');
    const t = io();
    expect(await runCli(["config", "validate", file], {}, t.io)).toBe(1);
    expect(t.err[0]).toBe("(root): not valid JSON at line 4, column 3: PropertyNameExpected");
  });

  it("events asks for the filters given and prints one line per event", async () => {
    const events = [{ id: 7, time: Date.UTC(2026, 0, 2, 3, 4, 5), level: "WARNING", section: "pools/web", tag: "nodefail", text: "Node 10.0.0.1:80 failed" }];
    const t = io((async () => new Response(JSON.stringify({ events }))) as unknown as typeof fetch);
    expect(await runCli(["events", "--since", "6", "--level", "warning", "--limit", "10"], { PORT: "48787" }, t.io)).toBe(0);
    expect(t.calls[0]!.url).toBe("http://127.0.0.1:48787/_shardcache/events?sinceId=6&limit=10&minLevel=WARNING");
    expect(t.out).toEqual(["    7  2026-01-02T03:04:05.000Z  WARNING  pools/web  nodefail: Node 10.0.0.1:80 failed"]);
  });

  it("rates prints each rate class and SLM class", async () => {
    const body = {
      rateClasses: { api: { mode: "reject", factor: 0.5, perSecond: 3, perMinute: 40, backlog: 0, contexts: 2, limits: { perSecond: 10 }, effectiveLimits: { perSecond: 5 }, busiest: [] } },
      slmClasses: { checkout: { state: "warning", percent: 91.5, samples: 200 } },
    };
    const t = io((async () => new Response(JSON.stringify(body))) as unknown as typeof fetch);
    expect(await runCli(["rates"], {}, t.io)).toBe(0);
    expect(t.calls[0]!.url).toBe("http://127.0.0.1:8787/_shardcache/rates");
    expect(t.out).toEqual(["rate class api (reject, limit 5/s, factor 0.5): 3/s, 40/min, backlog 0, 2 context(s)", "SLM class checkout: warning, 91.5% conforming over 200 sample(s)"]);
  });

  const replying = (body: unknown, status = 200) => io((async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch);

  it("config history prints the kept versions newest first, marking the active one, and sends who is asking", async () => {
    const t = replying({
      latest: 2,
      active: "bbbb2222",
      versions: [
        { version: 2, at: Date.UTC(2026, 0, 1), by: "bob@h", summary: "~settings.trace", hash: "bbbb2222" },
        { version: 1, at: Date.UTC(2025, 11, 31), by: "alice@h", summary: "+rules", hash: "aaaa1111" },
      ],
    });
    expect(await runCli(["config", "history"], { SHARDCACHE_ACTOR: "carol@laptop" }, t.io)).toBe(0);
    expect(t.calls[0]!.url).toBe("http://127.0.0.1:8787/_shardcache/config/versions");
    expect((t.calls[0]!.init.headers as Record<string, string>)["x-shardcache-actor"]).toBe("carol@laptop");
    expect(t.out).toEqual(["   2  2026-01-01T00:00:00.000Z  bbbb2222*  bob@h: ~settings.trace", "   1  2025-12-31T00:00:00.000Z  aaaa1111   alice@h: +rules"]);
  });

  it("config rollback posts the version and reports the new one; a refused rollback lists the errors", async () => {
    const t = replying({ ok: true, version: 5, restored: 2, hash: "cafe0001" });
    expect(await runCli(["config", "rollback", "2"], {}, t.io)).toBe(0);
    expect(t.calls[0]!.init.method).toBe("POST");
    expect(JSON.parse(t.calls[0]!.init.body as string)).toEqual({ version: 2 });
    expect(t.out).toEqual(["rolled back to version 2: now version 5 (cafe0001)"]);
    const refused = replying({ ok: false, error: "version 2 is not valid under the current schema", errors: [{ path: "settings.colour", message: "unknown key" }] }, 409);
    expect(await runCli(["config", "rollback", "2"], {}, refused.io)).toBe(1);
    expect(refused.err[0]).toBe("settings.colour: unknown key");
    const missing = replying({ ok: false, error: "version 9 is not kept" }, 404);
    expect(await runCli(["config", "rollback", "9"], {}, missing.io)).toBe(1);
    expect(missing.err[0]).toBe("error: version 9 is not kept (HTTP 404)");
  });

  it("config diff sends the file and prints one line per change; an invalid candidate exits 1 with its errors", async () => {
    const t = replying({
      ok: true,
      valid: true,
      active: "aaaa1111",
      candidate: "bbbb2222",
      summary: "",
      changes: [
        { op: "change", path: "settings.trace", before: true, after: false },
        { op: "add", path: "rules[name=api]", after: { name: "api" } },
        { op: "remove", path: "pools.old", before: {} },
      ],
    });
    expect(await runCli(["config", "diff", valid], {}, t.io)).toBe(0);
    expect(t.calls[0]!.url).toMatch(/\/config\/diff$/);
    expect(JSON.parse(t.calls[0]!.init.body as string)).toEqual({ settings: { trace: true } });
    expect(t.out.slice(1)).toEqual(["~ settings.trace: true -> false", '+ rules[name=api]: {"name":"api"}', "- pools.old: {}"]);
    const bad = replying({ ok: false, valid: false, errors: [{ path: "settings.primaries", message: "too small" }], active: "a", candidate: "b", changes: [] });
    expect(await runCli(["config", "diff", valid], {}, bad.io)).toBe(1);
    expect(bad.err[0]).toBe("settings.primaries: too small");
  });

  it("pool drain|disable|enable address one node by URL or index", async () => {
    const t = replying({ ok: true, version: 4, summary: "drain node https://a.example of pool web (was active)" });
    expect(await runCli(["pool", "drain", "web", "https://a.example"], {}, t.io)).toBe(0);
    expect(t.calls[0]!.url).toBe("http://127.0.0.1:8787/_shardcache/pools/web/nodes/https%3A%2F%2Fa.example/drain");
    expect(t.calls[0]!.init.method).toBe("POST");
    expect(t.out).toEqual(["drain node https://a.example of pool web (was active): version 4"]);
    const again = replying({ ok: false, error: 'node https://a.example of pool "web" is already draining' }, 409);
    expect(await runCli(["pool", "drain", "web", "0"], {}, again.io)).toBe(1);
    expect(again.err[0]).toMatch(/already draining \(HTTP 409\)/);
  });

  it("rule add posts the rule from a file (with --position), rule remove deletes by name", async () => {
    const file = join(dir, "rule.json");
    await writeFile(file, JSON.stringify({ name: "api", match: { path: "/api/**" }, actions: { pass: true } }));
    const t = replying({ ok: true, version: 2, summary: "add rule api at position 0" });
    expect(await runCli(["rule", "add", file, "--position", "0"], {}, t.io)).toBe(0);
    expect(JSON.parse(t.calls[0]!.init.body as string)).toEqual({ rule: { name: "api", match: { path: "/api/**" }, actions: { pass: true } }, position: 0 });
    expect(t.out).toEqual(["add rule api at position 0: version 2"]);
    const r = replying({ ok: true, version: 3, summary: "remove rule api (was at position 0)" });
    expect(await runCli(["rule", "remove", "api"], {}, r.io)).toBe(0);
    expect(r.calls[0]!.url).toMatch(/\/rules\/api$/);
    expect(r.calls[0]!.init.method).toBe("DELETE");
  });

  it("events test posts the chosen level, section and tag and reports the raised event", async () => {
    const t = replying({ ok: true, event: { id: 12, time: 0, level: "SERIOUS", section: "pools/web", tag: "test", text: "Test event from me@h" } });
    expect(await runCli(["events", "test", "--level", "serious", "--section", "pools/web"], {}, t.io)).toBe(0);
    expect(t.calls[0]!.url).toMatch(/\/events\/test$/);
    expect(JSON.parse(t.calls[0]!.init.body as string)).toEqual({ level: "SERIOUS", section: "pools/web" });
    expect(t.out[0]).toMatch(/^test event 12 raised: SERIOUS pools\/web test: Test event from me@h/);
    expect(await runCli(["events", "test", "--level", "LOUD"], {}, io().io)).toBe(2);
  });

  it("purge sends exactly the selector", async () => {
    const t = io((async () => new Response(JSON.stringify({ ok: true, shards: { purged: 2, failed: 0, each: [] }, edge: { logged: true, zone: { status: "skipped" } } }))) as unknown as typeof fetch);
    expect(await runCli(["purge", "--tag", "blue", "--soft"], {}, t.io)).toBe(0);
    expect(JSON.parse(t.calls[0]!.init.body as string)).toEqual({ tag: "blue", soft: true });
    expect(t.out[0]).toMatch(/soft purge tag blue: 2 stored variant\(s\) marked stale/);
  });

  it("runs as a child process (npx tsx scripts/cli.ts) with the same exit code", async () => {
    const run = promisify(execFile);
    const failure = await run("npx", ["tsx", "scripts/cli.ts", "config", "validate", broken], { cwd: join(__dirname, "..", "..", "..") }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^settings\.colour: unknown key$/m);
  }, 30_000);
});

describe("cli stats and top", () => {
  const body = (requests: number, hits: number) => ({
    cluster: {
      requests,
      edge: { hit: hits, miss: requests - hits, pass: 0, origin: 0, refused: 0, error: 0 },
      shard: { hit: 0, stale: 0, miss: requests - hits, coalesced: 0, revalidated: 0, pass: 0, error: 0 },
      hits,
      cacheable: requests,
      hitRatio: hits / requests,
      originFetches: requests - hits,
      bytesServed: 100 * requests,
    },
    shards: [{ shard: "shard-0", hits: 0, misses: requests - hits, coalesced: 0, originFetches: requests - hits, passes: 0, stores: 1, objects: 1, storedBytes: 100, evictions: 0 }],
    total: { hits: 0, misses: requests - hits, coalesced: 0, originFetches: requests - hits, passes: 0, stores: 1, objects: 1, storedBytes: 100, evictions: 0 },
  });

  it("stats prints the cluster figures with both tiers and the hit ratio before the shard table", async () => {
    const t = io((async () => new Response(JSON.stringify(body(1000, 990)))) as unknown as typeof fetch);
    expect(await runCli(["stats"], {}, t.io)).toBe(0);
    const text = t.out.join("\n");
    expect(text).toMatch(/requests +1000 +hit ratio 99\.0 % \(990 hits of 1000 cacheable\)/);
    expect(text).toMatch(/edge tier +hit 990, miss 10/);
    expect(text).toMatch(/shard tier +hit 0, stale 0, miss 10/);
    expect(text).toMatch(/shard-0 /);
  });

  it("top refreshes --count times, with rates since the previous refresh", async () => {
    const replies = [body(100, 90), body(300, 280)];
    const t = io((async () => new Response(JSON.stringify(replies.shift()))) as unknown as typeof fetch);
    const slept: number[] = [];
    t.io.sleep = async (ms) => void slept.push(ms);
    expect(await runCli(["top", "--interval", "1", "--count", "2"], {}, t.io)).toBe(0);
    expect(t.calls).toHaveLength(2);
    expect(slept).toEqual([1000]);
    expect(t.out.filter((l) => l.startsWith("shardcache top"))).toHaveLength(2);
    // The second refresh has a rate: 200 requests over the (real) time between the two calls.
    expect(t.out.filter((l) => /^requests +300 \(\d+(\.\d)?\/s\)/.test(l))).toHaveLength(1);
  });
});
