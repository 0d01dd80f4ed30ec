/**
 * `npm run bench:pauses`: is a fixed-rate tail the server's own, or the machine's? The same open-loop
 * stream (scripts/lib/fixed-rate.ts, the generator of `npm run bench`) at one rate against, one after
 * another: the bench's bare constant-body worker alone in a workerd of its own (Miniflare API, as the
 * bench starts it), nginx's constant body (`return 200`, when nginx is installed) and a Node `http`
 * server in a child process answering the same body. For each: p50 / p99 / p99.9, and its pauses:
 * the 100 ms windows of due time whose slowest answer took longer than PAUSE_MS. Then the bare
 * worker's throughput over consecutive closed-loop runs (wrk) in that same workerd: its drift.
 *
 * Why it exists: `npm run bench` compares the edge hit's fixed-rate p99 with the bare worker's, and
 * on this machine both are set by pauses that the bare worker alone shows too; this is the evidence,
 * reproducible (docs/performance.md, issue 15). Loopback only; bounded by --seconds per server.
 *
 * Options: --rate=N (default 3600), --seconds=N (default 15), --drift-runs=N (default 8), --ports=A-B.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { startDemoOrigin } from "./demo-origin";
import { exitOnHelp } from "./lib/bench-args";
import { fixedRateInterleaved } from "./lib/fixed-rate";
import { portFrom, PortRange } from "./lib/free-port";
import { throughput } from "./lib/load";
import { nginxAvailable, startNginx } from "./lib/proxies";
import { BARE_WORKER_SCRIPT, bundleShardcache, startRuntime } from "./lib/runtime";
import { fmt, markdownTable, sleep } from "./lib/stats";

exitOnHelp(process.argv, "npm run bench:pauses [-- --rate=N --seconds=N --drift-runs=N --ports=A-B]");
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ports = PortRange.fromArgs(process.argv);
const rate = Number(arg("rate") ?? 3_600);
const seconds = Number(arg("seconds") ?? 15);
const driftRuns = Number(arg("drift-runs") ?? 8);
/** A window whose slowest answer took longer than this is a pause: ten times a loopback answer's p50 here. */
const PAUSE_MS = 20;
const WINDOW_MS = 100;
const BODY = "demo origin: /ref #1\n";

interface Tail {
  server: string;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** Windows of due time with an answer slower than PAUSE_MS, and the slowest answer of the run. */
  pauses: number;
  windows: number;
  maxMs: number;
}

async function tailOf(server: string, url: string): Promise<Tail> {
  for (let i = 0; i < 20; i++) await (await fetch(url)).arrayBuffer();
  const slowest = new Map<number, number>();
  const [run] = await fixedRateInterleaved({
    urls: [url],
    rate,
    sliceMs: seconds * 1000,
    slices: 1,
    connections: 64,
    maxBacklogMs: 3_000,
    onSample: (_target, dueMs, latencyMs) => {
      const window = Math.floor(dueMs / WINDOW_MS);
      slowest.set(window, Math.max(slowest.get(window) ?? 0, latencyMs));
    },
  });
  const pauses = [...slowest.values()].filter((ms) => ms > PAUSE_MS).length;
  console.log(`  ${server}: p50 ${fmt.ms(run!.p50Ms)}, p99 ${fmt.ms(run!.p99Ms)}, ${pauses} of ${slowest.size} windows with an answer over ${PAUSE_MS} ms${run!.overloaded ? " (OVERLOADED)" : ""}`);
  return { server, p50Ms: run!.p50Ms, p99Ms: run!.p99Ms, p999Ms: run!.p999Ms, pauses, windows: slowest.size, maxMs: run!.maxMs };
}

/** A Node `http` server in a child process (so it has a core of its own to contend for, like the others), stopped by its PID. */
async function startNodeServer(port: number): Promise<{ url: string; stop(): void }> {
  const script = `require("node:http").createServer((q, s) => { s.writeHead(200, { "content-type": "text/plain; charset=utf-8" }); s.end(${JSON.stringify(BODY)}); }).listen(${port}, "127.0.0.1");`;
  const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 50; i++) {
    try {
      await (await fetch(url)).arrayBuffer();
      return { url, stop: () => child.kill() };
    } catch {
      await sleep(100);
    }
  }
  child.kill();
  throw new Error("the Node server did not start");
}

/** The resident memory of the runtime's processes, MiB (0 where /proc is unreadable). */
function rssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // The process is gone or /proc is not there: counted as nothing.
    }
  }
  return Math.round(kib / 1024);
}

async function main(): Promise<void> {
  console.log(`fixed rate ${rate} req/s for ${seconds} s per server, 64 connections; a pause: a ${WINDOW_MS} ms window with an answer over ${PAUSE_MS} ms`);
  const origin = await startDemoOrigin(await portFrom(ports));
  const bundle = await bundleShardcache(null);
  const tails: Tail[] = [];
  const drift: number[] = [];
  /** workerd's resident memory before the fixed-rate run, after it, and after the closed-loop runs. */
  const rss: number[] = [];
  try {
    const runtime = await startRuntime(bundle, origin.url, [{ name: "bare", script: BARE_WORKER_SCRIPT }], { ports });
    try {
      const url = `${runtime.url("bare")}/`;
      rss.push(rssMiB(runtime.pids));
      tails.push(await tailOf("bare worker, alone in its own workerd", url));
      rss.push(rssMiB(runtime.pids));
      for (let i = 0; i < driftRuns; i++) drift.push((await throughput(url, 4_000, 32)).rps);
      rss.push(rssMiB(runtime.pids));
      console.log(`  bare worker, ${driftRuns} consecutive 4 s closed-loop runs: ${drift.map((r) => fmt.int(r)).join(", ")} req/s; workerd RSS ${rss.join(" → ")} MiB`);
    } finally {
      await runtime.dispose();
    }
    if (nginxAvailable()) {
      const nginx = await startNginx(origin.url, ports);
      try {
        tails.push(await tailOf("nginx, constant body (one worker process)", nginx.referenceUrl));
      } finally {
        await nginx.stop();
      }
    }
    const node = await startNodeServer(await portFrom(ports));
    try {
      tails.push(await tailOf("Node http server, constant body (child process)", node.url));
    } finally {
      node.stop();
    }
  } finally {
    await origin.close();
    await bundle.dispose();
  }
  console.log("");
  console.log(`### Fixed-rate tails, the same generator against three servers (\`npm run bench:pauses\`, ${rate} req/s, ${seconds} s each)`);
  console.log(
    markdownTable(
      ["server", "p50", "p99", "p99.9", "slowest", `${WINDOW_MS} ms windows with an answer over ${PAUSE_MS} ms`],
      tails.map((t) => [t.server, fmt.ms(t.p50Ms), fmt.ms(t.p99Ms), fmt.ms(t.p999Ms), fmt.ms(t.maxMs), `${t.pauses} of ${t.windows}`]),
    ),
  );
  if (drift.length > 0) {
    console.log("");
    console.log(
      `The bare worker's closed-loop throughput in ${drift.length} consecutive 4 s runs (wrk, 32 connections): ${drift.map((r) => fmt.int(r)).join(", ")} req/s (${fmt.int(Math.min(...drift))}–${fmt.int(Math.max(...drift))}); workerd's resident memory before the fixed-rate run, after it and after these runs: ${rss.join(" → ")} MiB.`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
