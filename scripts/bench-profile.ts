/**
 * `npm run bench:profile`: a CPU profile of the edge-tier hit on workerd, taken by V8's sampling
 * profiler through workerd's own inspector (Chrome DevTools Protocol), while wrk drives the hit for
 * a few seconds. Prints the functions with the most self time and the most inclusive time, each
 * named with the source module esbuild's bundle says it came from; writes the raw profile to
 * bench/results/ (open it in Chrome DevTools' Performance panel).
 *
 * Options: `--ports=A-B` (every listening port, the inspector's included, from that range),
 * `--seconds=N` (default 5), `--tier=edge|dev|rated|uncounted|shard|bare` (default edge: the production
 * config's edge hit; dev: the shipped dev config; rated: with a rate-class check; uncounted: counting
 * off; shard: a shard-tier hit, driven through the edge worker with edgeTtlCapSeconds 0, and the
 * isolate profiled is the one CacheShard runs in, the Durable Object owner's; bare: the bench's bare
 * constant-body worker, the reference whose profile shows what any request costs the runtime).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WebSocket } from "undici";
import { hitWorkers, HIT_OWNER } from "./bench-hits";
import { startDemoOrigin } from "./demo-origin";
import { exitOnHelp } from "./lib/bench-args";
import { portFrom, PortRange } from "./lib/free-port";
import { throughput } from "./lib/load";
import { withCpu } from "./lib/proc-cpu";
import { bundleShardcache, REPO_ROOT, startRuntime } from "./lib/runtime";
import { markdownTable } from "./lib/stats";

exitOnHelp(process.argv, "npm run bench:profile [-- --ports=A-B --seconds=N --tier=edge|dev|rated|uncounted|shard|bare]");
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ports = PortRange.fromArgs(process.argv);
const seconds = Number(arg("seconds") ?? 5);
const TIERS: Record<string, string> = { edge: HIT_OWNER, dev: "edge-dev", rated: "edge-rated", uncounted: "edge-uncounted", shard: "shard-tier", bare: "bare" };
const tier = arg("tier") ?? "edge";
if (TIERS[tier] === undefined) throw new Error(`--tier: one of ${Object.keys(TIERS).join(", ")}`);
const shardTier = tier === "shard";
const bareTier = tier === "bare";
/** The worker the load goes to, and the one whose isolate is profiled (a Durable Object runs in its owner's). */
const worker = TIERS[tier]!;
const profiled = shardTier ? HIT_OWNER : worker;
// The rated worker's rule matches this path only.
const path = tier === "rated" ? "/hot-rated" : bareTier ? "/" : "/hot-profile";
/** What the answer's Cache-Status must say before profiling (the bare worker writes none). */
const expected = bareTier ? /^$/ : shardTier ? /shardcache-shard;hit/ : /shardcache-edge;hit/;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which source module each line of an esbuild bundle came from (esbuild writes `// path` before each module). */
export function moduleLines(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  bundle.split("\n").forEach((text, i) => {
    const m = /^\/\/ ((?:src|durable|node_modules)\/\S+)$/.exec(text);
    if (m !== null) starts.push({ line: i, module: m[1]! });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

export interface ProfileRow {
  name: string;
  selfMs: number;
  totalMs: number;
}

/**
 * Self and inclusive time per function (same name and place). Inclusive time counts a function once
 * per sample however often it is on that stack (recursion), so it never exceeds the sampled time.
 */
export function summariseProfile(profile: CpuProfile, where: (frame: CallFrame) => string): { sampledMs: number; rows: ProfileRow[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${where(n.callFrame)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sampledMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    sampledMs += ms;
    const node = byId.get(id);
    if (node === undefined) return;
    self.set(label(node), (self.get(label(node)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + ms);
    }
  });
  const rows = [...total.keys()].map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name) ?? 0 }));
  return { sampledMs, rows };
}

/** One Chrome DevTools Protocol session over a WebSocket: `send` resolves with the method's result. */
async function cdp(url: string): Promise<{ send(method: string, params?: object): Promise<unknown>; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error(`inspector: cannot connect to ${url}`)));
  });
  let next = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error !== undefined) p?.reject(new Error(msg.error.message));
    else p?.resolve(msg.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

async function main(): Promise<void> {
  const origin = await startDemoOrigin(await portFrom(ports));
  const bundle = await bundleShardcache(null);
  const inspectorPort = await portFrom(ports);
  const runtime = await startRuntime(bundle, origin.url, hitWorkers(), { ports, inspectorPort });
  try {
    const url = `${runtime.url(worker)}${path}`;
    for (let i = 0; i < 5; i++) await (await fetch(url)).arrayBuffer();
    const status = (await fetch(url)).headers.get("cache-status") ?? "";
    if (!expected.test(status)) throw new Error(`not a ${tier} answer: Cache-Status ${status}`);
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { id: string; title?: string; webSocketDebuggerUrl?: string }[];
    const target = targets.find((t) => t.id.endsWith(`:${profiled}`) || t.id === profiled || (t.title ?? "").includes(profiled));
    if (target === undefined) throw new Error(`no inspector target for ${profiled} among ${targets.map((t) => t.id).join(", ")}`);
    const session = await cdp(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 100 });
    await session.send("Profiler.start");
    const { value: load, cpuMs } = await withCpu(runtime.pids, () => throughput(url, seconds * 1000, 32));
    const { profile } = (await session.send("Profiler.stop")) as { profile: CpuProfile };
    session.close();
    const where = moduleLines(await readFile(bundle.scriptPath, "utf8"));
    const { sampledMs, rows } = summariseProfile(profile, (f) => (f.url === "" ? "(native)" : `${where(f.lineNumber)}`));
    const top = (key: "selfMs" | "totalMs", n: number) =>
      rows
        .filter((r) => !/^\((root|program|idle)\)/.test(r.name))
        .sort((a, b) => b[key] - a[key])
        .slice(0, n)
        .map((r) => [r.name, `${r.selfMs.toFixed(0)} ms`, `${((r.selfMs / sampledMs) * 100).toFixed(1)} %`, `${r.totalMs.toFixed(0)} ms`, `${((r.totalMs / sampledMs) * 100).toFixed(1)} %`]);
    const idle = rows.find((r) => r.name.startsWith("(idle)"))?.selfMs ?? 0;
    const program = rows.find((r) => r.name.startsWith("(program)"))?.selfMs ?? 0;
    const gc = rows.find((r) => r.name.startsWith("(garbage collector)"))?.selfMs ?? 0;
    console.log(
      `${bareTier ? "Bare worker" : shardTier ? "Shard-tier hit" : "Edge-tier hit"}, ${tier} (load on ${worker}, isolate of ${profiled} profiled), ${seconds} s of wrk -t2 -c32: ${Math.round(load.rps)} req/s, workerd CPU ${cpuMs === null ? "?" : `${((cpuMs * 1000) / load.requests).toFixed(0)} µs`}/request (with the profiler on). Sampled ${sampledMs.toFixed(0)} ms: idle ${((idle / sampledMs) * 100).toFixed(1)} %, (program) ${((program / sampledMs) * 100).toFixed(1)} %, GC ${((gc / sampledMs) * 100).toFixed(1)} %.\n`,
    );
    const header = ["function (source module)", "self", "self %", "inclusive", "inclusive %"];
    console.log("Most self time:\n");
    console.log(markdownTable(header, top("selfMs", 25)));
    console.log("\nMost inclusive time:\n");
    console.log(markdownTable(header, top("totalMs", 25)));
    const dir = join(REPO_ROOT, "bench", "results");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `profile-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    console.error(`raw profile: ${file}`);
  } finally {
    await runtime.dispose();
    await bundle.dispose();
    await origin.close();
  }
}

if (process.argv[1]?.endsWith("bench-profile.ts")) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
