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
    cluster: { requests, edge: { hit: hits, miss: requests - hits, pass: 0, origin: 0, refused: 0, error: 0 }, shard: { hit: 0, stale: 0, miss: requests - hits, coalesced: 0, revalidated: 0, pass: 0, error: 0 }, hits, cacheable: requests, hitRatio: hits / requests, originFetches: requests - hits, bytesServed: 100 * requests },
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
