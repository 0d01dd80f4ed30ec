/**
 * The benchmark's own measuring parts: the /proc CPU reader, the fixed-rate generator's HTTP reader
 * and its honesty about stalls (latency from the due time), the port range, and how the steady run
 * tells a request that waited on the origin from one that did not, and how a pair's spread is told.
 */
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { bodyEnd, fixedRate, fixedRateInterleaved, parseResponseHead, quickHead, sliceTarget } from "../../../scripts/lib/fixed-rate";
import { PortRange } from "../../../scripts/lib/free-port";
import { cpuMillis, descendantPids, parseProcStat } from "../../../scripts/lib/proc-cpu";
import { classifyAnswer } from "../../../scripts/lib/scale";
import { interquartile } from "../../../scripts/lib/stats";
import { pairText, pairVerdict } from "../../../scripts/bench-hits";
import { moduleLines, summariseProfile } from "../../../scripts/bench-profile";

describe("parseProcStat", () => {
  it("reads pid, comm, ppid and utime + stime", () => {
    const line = "5690 (cat) R 5687 5687 431 0 -1 4194304 100 0 0 0 7 3 0 0 20 0 1 0 1183448 3133440 382 18446744073709551615";
    expect(parseProcStat(line)).toEqual({ pid: 5690, comm: "cat", ppid: 5687, ticks: 10 });
  });

  it("counts fields from the last parenthesis, whatever the process calls itself", () => {
    const line = "42 (a) b (c)) S 7 42 42 0 -1 0 0 0 0 0 120 30 0 0 20 0 1 0 1 1 1";
    expect(parseProcStat(line)).toEqual({ pid: 42, comm: "a) b (c)", ppid: 7, ticks: 150 });
  });

  it("refuses garbage", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("12 no parens here")).toBeNull();
    expect(parseProcStat("12 (x) S notanumber")).toBeNull();
  });

  it.skipIf(process.platform !== "linux")("measures this process's own CPU", () => {
    const before = cpuMillis([process.pid])!;
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // spin: CPU time must grow
    }
    expect(cpuMillis([process.pid])! - before).toBeGreaterThan(0);
    expect(cpuMillis([])).toBeNull();
    expect(descendantPids("no-such-command-name")).toEqual([]);
  });
});

describe("the fixed-rate generator's response reader", () => {
  const head = (text: string) => parseResponseHead(Buffer.from(text, "latin1"))!;

  it("parses status and header fields, lower-cased, repeated fields joined", () => {
    const h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Status: a\r\ncache-status: b\r\n\r\nhello");
    expect(h.status).toBe(200);
    expect(h.headers["content-length"]).toBe("5");
    expect(h.headers["cache-status"]).toBe("a, b");
    expect(h.headBytes).toBe(Buffer.byteLength("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Status: a\r\ncache-status: b\r\n\r\n"));
  });

  it("waits for a whole head, and refuses what is not HTTP/1.x", () => {
    expect(parseResponseHead(Buffer.from("HTTP/1.1 200 OK\r\nContent-Le"))).toBeNull();
    expect(() => parseResponseHead(Buffer.from("SSH-2.0-x\r\n\r\n"))).toThrow(/not an HTTP/);
  });

  it("finds the end of a Content-Length body only once it has all arrived", () => {
    const text = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel";
    const h = head(text);
    expect(bodyEnd(Buffer.from(text), h.headBytes, h)).toBeNull();
    const full = Buffer.from(`${text}loHTTP/1.1`);
    expect(bodyEnd(full, h.headBytes, h)).toBe(h.headBytes + 5);
  });

  it("reads chunked bodies, trailers included, and 304s without a body", () => {
    const text = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    const h = head(text);
    const body = "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n";
    expect(bodyEnd(Buffer.from(text + body), h.headBytes, h)).toBe(Buffer.byteLength(text + body));
    expect(bodyEnd(Buffer.from(text + body.slice(0, -2)), h.headBytes, h)).toBeNull();
    const withTrailer = "0\r\nx-t: 1\r\n\r\n";
    expect(bodyEnd(Buffer.from(text + withTrailer), h.headBytes, h)).toBe(Buffer.byteLength(text + withTrailer));
    const notModified = head("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n");
    expect(bodyEnd(Buffer.from("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n"), notModified.headBytes, notModified)).toBe(notModified.headBytes);
  });
});

describe("the generator's quick response reader (every response after the first)", () => {
  const responses = [
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhelloHTTP/1.1 200 OK\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length:3\r\n\r\nabc",
    "HTTP/1.1 404 Not Found\r\nCONTENT-LENGTH: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nab",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.0 200 OK\r\nX-Content-Length: 9\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
  ];
  it.each(responses)("frames %j as the full reader does", (text) => {
    const buf = Buffer.from(text, "latin1");
    const full = parseResponseHead(buf);
    const quick = quickHead(buf);
    expect(quick === null).toBe(full === null);
    if (full === null || quick === null) return;
    expect(quick.status).toBe(full.status);
    expect(quick.headBytes).toBe(full.headBytes);
    expect(bodyEnd(buf, quick.headBytes, quick)).toBe(bodyEnd(buf, full.headBytes, full));
  });

  it("refuses what is not HTTP/1.x", () => {
    expect(() => quickHead(Buffer.from("SSH-2.0-x\r\n\r\n"))).toThrow();
  });
});

describe("fixedRate", () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
    server = null;
  });
  const listen = (handler: Parameters<typeof createServer>[1]) =>
    new Promise<string>((resolve) => {
      server = createServer(handler);
      server.listen(0, "127.0.0.1", () => {
        const address = server!.address();
        resolve(`http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/x`);
      });
    });

  it("sends at the rate it was given and answers every request", async () => {
    const url = await listen((_req, res) => res.end("ok"));
    const result = await fixedRate({ url, rate: 200, durationMs: 500, connections: 4 });
    expect(result.due).toBe(100);
    expect(result.completed).toBe(100);
    expect(result.errors).toBe(0);
    expect(result.overloaded).toBe(false);
    // Latencies are measured (how fast a loaded machine answers is the bench's business, not this test's).
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p50Ms).toBeLessThanOrEqual(result.p99Ms);
    expect(result.p99Ms).toBeLessThanOrEqual(result.maxMs);
  });

  it("still sends, and measures, the requests queued for a connection when sending ends", async () => {
    // One connection, 10 ms per answer, 200 due per second: about half the requests are still
    // queued when the last one comes due; each is sent and counted, its wait in its latency.
    const url = await listen((_req, res) => setTimeout(() => res.end("ok"), 10));
    const result = await fixedRate({ url, rate: 200, durationMs: 500, connections: 1, drainMs: 5_000 });
    expect(result.overloaded).toBe(false);
    expect(result.notSent).toBe(0);
    expect(result.completed).toBe(100);
    expect(result.maxMs).toBeGreaterThan(200);
  });

  it("counts a stall from each request's due time (no coordinated omission)", async () => {
    // One 300 ms stall of the only connection: the requests that came due meanwhile waited for it,
    // and a closed loop would have measured one slow request; the open loop measures them all.
    let served = 0;
    const url = await listen((_req, res) => {
      served++;
      if (served === 10) setTimeout(() => res.end("slow"), 300);
      else res.end("ok");
    });
    const result = await fixedRate({ url, rate: 100, durationMs: 1_000, connections: 1 });
    expect(result.completed).toBe(100);
    const sorted = result.p99Ms;
    // About 30 requests came due during the stall: far more than 1 % of them waited over 100 ms.
    expect(sorted).toBeGreaterThan(150);
    expect(result.p50Ms).toBeLessThan(100);
  });

  it("stops, overloaded, when the server cannot keep up", async () => {
    const url = await listen((_req, res) => setTimeout(() => res.end("slow"), 100));
    const result = await fixedRate({ url, rate: 500, durationMs: 2_000, connections: 2, maxBacklogMs: 200, drainMs: 1_000 });
    expect(result.overloaded).toBe(true);
    expect(result.notSent).toBeGreaterThan(0);
    expect(result.achievedRps).toBeLessThan(100);
  });
});

describe("fixedRateInterleaved", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });
  const listen = (handler: Parameters<typeof createServer>[1]) =>
    new Promise<string>((resolve) => {
      const server = createServer(handler);
      servers.push(server);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        resolve(`http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/x`);
      });
    });

  it("hands the stream to each target in turn, forwards then backwards, so drift falls on all alike", () => {
    expect(Array.from({ length: 9 }, (_, i) => sliceTarget(i, 3))).toEqual([0, 1, 2, 2, 1, 0, 0, 1, 2]);
    expect(Array.from({ length: 4 }, (_, i) => sliceTarget(i, 1))).toEqual([0, 0, 0, 0]);
  });

  it("gives each target its slices' requests, and reports the changes of target", async () => {
    const served = [0, 0];
    const urls = [await listen((_req, res) => (served[0]!++, res.end("a"))), await listen((_req, res) => (served[1]!++, res.end("b")))];
    const changes: number[] = [];
    const [a, b] = await fixedRateInterleaved({ urls, rate: 200, sliceMs: 100, slices: 3, connections: 2, onSlice: (i) => changes.push(i) });
    expect(changes).toEqual([0, 1, 1, 0, 0, 1, -1]);
    for (const r of [a!, b!]) {
      expect(r.due).toBe(60);
      expect(r.completed).toBe(60);
      expect(r.errors).toBe(0);
      expect(r.durationMs).toBeGreaterThanOrEqual(280);
    }
    expect(served).toEqual([60, 60]);
    expect(a!.firstHeaders["content-length"]).toBe("1");
  });

  it("keeps one target's stall off the other's latencies (each has its own connections)", async () => {
    let slowServed = 0;
    const fast = await listen((_req, res) => res.end("ok"));
    const slow = await listen((_req, res) => {
      slowServed++;
      if (slowServed === 5) setTimeout(() => res.end("slow"), 200);
      else res.end("ok");
    });
    const [f, s] = await fixedRateInterleaved({ urls: [fast, slow], rate: 200, sliceMs: 250, slices: 2, connections: 1, drainMs: 2_000 });
    expect(s!.maxMs).toBeGreaterThan(150);
    expect(f!.p99Ms).toBeLessThan(100);
    expect(f!.completed + s!.completed).toBe(200);
  });
});

describe("PortRange", () => {
  it("takes --ports=A-B and hands out each port once, in order", async () => {
    const range = PortRange.fromArgs(["--quick", "--ports=19690-19699"])!;
    expect([range.first, range.last]).toEqual([19690, 19699]);
    const a = await range.take();
    const b = await range.take();
    expect(a).toBeGreaterThanOrEqual(19690);
    expect(b).toBeGreaterThan(a);
    expect(b).toBeLessThanOrEqual(19699);
    expect(PortRange.fromArgs(["--quick"])).toBeNull();
    expect(() => PortRange.fromArgs(["--ports=80"])).toThrow(/FIRST-LAST/);
    expect(() => new PortRange(10, 5)).toThrow(/bad port range/);
  });
});

describe("classifyAnswer (steady load: who waited on the origin)", () => {
  it.each([
    ["shardcache-edge;hit;ttl=1", "edge-hit"],
    ["shardcache-shard;hit;ttl=1, shardcache-edge;fwd=uri-miss;stored=?0", "shard-hit"],
    ["shardcache-shard;hit;fwd=stale;ttl=-1;detail=refresh-time, shardcache-edge;fwd=uri-miss;stored=?0", "shard-stale"],
    // An edge follower of a shard HIT waited on a shard call, not on the origin (the old count's mistake).
    ["shardcache-shard;hit;ttl=1, shardcache-edge;fwd=uri-miss;collapsed", "edge-follower"],
    // A follower of a leader whose shard fetched from the origin did wait on it.
    ['shardcache-shard;fwd=stale;fwd-status=304;detail="revalidated", shardcache-edge;fwd=uri-miss;collapsed', "waited-on-origin"],
    ["shardcache-shard;fwd=uri-miss;fwd-status=200;stored, shardcache-edge;fwd=uri-miss;stored", "waited-on-origin"],
    ["shardcache-shard;fwd=stale;collapsed, shardcache-edge;fwd=uri-miss", "waited-on-origin"],
    ["shardcache-edge;fwd=uri-miss;fwd-status=200;detail=shards-unavailable", "waited-on-origin"],
    ["", "other"],
  ])("%s → %s", (cacheStatus, kind) => {
    expect(classifyAnswer(cacheStatus)).toBe(kind);
  });
});

describe("the CPU profile summary (bench:profile)", () => {
  it("names each bundle line with the module esbuild wrote it from", () => {
    const where = moduleLines(["// src/a.ts", "function a() {}", "", "// durable/b.ts", "function b() {}"].join("\n"));
    expect(where(1)).toBe("src/a.ts");
    expect(where(4)).toBe("durable/b.ts");
    expect(moduleLines("x")(0)).toBe("(bundle)");
  });

  it("adds self time per function and inclusive time once per sample, recursion included", () => {
    const frame = (functionName: string) => ({ functionName, url: "index.js", lineNumber: 0, columnNumber: 0 });
    // root → handler → handler (recursion) → lookup; samples: lookup twice, the inner handler once, root once.
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2] },
        { id: 2, callFrame: frame("handler"), children: [3] },
        { id: 3, callFrame: frame("handler"), children: [4] },
        { id: 4, callFrame: frame("lookup") },
      ],
      startTime: 0,
      endTime: 4000,
      samples: [4, 4, 3, 1],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    const { sampledMs, rows } = summariseProfile(profile, () => "m");
    const row = (name: string) => rows.find((r) => r.name === `${name} m`)!;
    expect(sampledMs).toBe(4);
    expect(row("lookup")).toEqual({ name: "lookup m", selfMs: 2, totalMs: 2 });
    expect(row("handler")).toEqual({ name: "handler m", selfMs: 1, totalMs: 3 });
    expect(row("(root)").totalMs).toBe(4);
  });
});

describe("a pair's spread (the middle half of its ratios)", () => {
  it("is the 25th and 75th percentile by nearest rank, whatever the order of the runs", () => {
    expect(interquartile([1.3, 0.7, 1.0, 0.9, 1.1, 0.8, 1.2, 1.05])).toEqual([0.8, 1.1]);
    expect(interquartile([0.9])).toEqual([0.9, 0.9]);
  });

  it("decides whether a miss is smaller than the run's own noise, the control pair's distance from 1.00×", () => {
    expect(pairVerdict(true, -0.02, { ratio: 0.9 })).toBe("met");
    expect(pairVerdict(false, 0.01, { ratio: 0.97 })).toBe("**missed** by 0.01, less than the control's 0.03 from 1.00×: not resolved in this run");
    expect(pairVerdict(false, 0.01, { ratio: 1.03 })).toContain("not resolved");
    expect(pairVerdict(false, 0.05, { ratio: 0.97 })).toBe("**missed** by 0.05");
  });

  it("is printed beside the median it belongs to", () => {
    expect(pairText({ ratio: 0.864, spread: [0.752, 0.971] })).toBe("0.86× (0.75–0.97)");
  });
});
