/**
 * `npm run simulate`: several edge workers standing for data centres, each with its own edge tier
 * (its own isolate and in-memory tier; Miniflare's Cache API store is shared by every worker of an
 * instance, so the shardcache data centres run with caches.default disabled rather than share one),
 * all bound to ONE Durable Object namespace (the CacheShard class lives in the first worker, the others
 * bind to it with `scriptName`). Scenarios, each bounded in time and count:
 *   1. a herd spread over every data centre → origin fetches (goal: 1) and shard calls counted by the
 *      shards (goal: ≤ one per data centre), beside the same herd on the baseline build before edge
 *      single-flight (`--baseline=REF`)
 *   2. the same herd through a plain Cache-API-only worker per data centre (bench/workers/cache-api-only.js)
 *   3. one hot key with primaries = 2 → how its load splits between the two shards
 *   4. the key's primary shard made to throw mid-run (setFault) → errors (goal: 0), which shard took over
 * `--source=REF` bundles a git commit instead of the working tree; `--ports=A-B` takes every
 * listening port from that range; `--help` lists the options.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin";
import { burst, get, isHit, keepAliveAgent, openLoop } from "./lib/load";
import { bundleShardcache, REPO_ROOT, sourceRefFromArgs, startRuntime, type Runtime, type WorkerSpec } from "./lib/runtime";
import { machineInfo, machineLine, markdownTable, sleep } from "./lib/stats";
import { workerdVersion } from "./lib/runtime";
import { BASELINE_REF, originFetches, shardCallsDuring } from "./lib/scale";
import { exitOnHelp, SHARED_OPTIONS } from "./lib/bench-args";
import { portFrom, PortRange } from "./lib/free-port";

const USAGE = `npm run simulate [-- options]: three simulated data centres on one workerd
${SHARED_OPTIONS}`;
exitOnHelp(process.argv, USAGE);
const ports = PortRange.fromArgs(process.argv);

const DCS = ["ams", "fra", "sin"] as const;
const HOST = "cdn.example.com";
const HERD = 201; // 67 per data centre
const HERD_DELAY_MS = 300;
const HOT_REQUESTS = 600;
const FAULT_RATE = 100; // req/s over all data centres
const FAULT_MS = 6_000;

const t0 = performance.now();
const progress = (text: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${text}`);
const hostHeader = { host: HOST };

/** The shard that answered, from X-Cluster-Trace ("edge:local->MISS, shard-3->HIT"): the last shard-… hop. */
function answeringShard(trace: string | string[] | undefined): string | null {
  const hops = [...String(trace ?? "").matchAll(/(shard-\d+)->(?!FAIL)[A-Z]+/g)];
  return hops.length === 0 ? null : hops[hops.length - 1]![1]!;
}

async function spreadHerd(runtime: Runtime, workers: readonly string[], url: string) {
  const per = Math.ceil(HERD / workers.length);
  const results = await Promise.all(workers.map((w) => burst(`${runtime.url(w)}${url}`, per, 30_000, hostHeader)));
  let ok = 0;
  let total = 0;
  for (const r of results) for (const [status, n] of r.statuses) (total += n), status === 200 && (ok += n);
  return { requests: total, ok, wallMs: Math.round(Math.max(...results.map((r) => r.maxLatencyMs))) };
}

/** The same spread herd on the baseline build (before edge single-flight), in its own runtime. */
async function baselineHerd(origin: DemoOrigin, ref: string) {
  const bundle = await bundleShardcache(ref);
  let runtime: Runtime | null = null;
  try {
    const owner = `baseline-${DCS[0]}`;
    runtime = await startRuntime(
      bundle,
      origin.url,
      DCS.map((dc) => ({ name: `baseline-${dc}`, config: { settings: { trace: true } }, cacheApi: false, ...(`baseline-${dc}` === owner ? {} : { doOwner: owner }) })),
      { ports },
    );
    const path = `/sim-herd-baseline-${Date.now()}`;
    let herd!: Awaited<ReturnType<typeof spreadHerd>>;
    const shardCalls = await shardCallsDuring(
      runtime,
      owner,
      async () =>
        void (herd = await spreadHerd(
          runtime!,
          DCS.map((dc) => `baseline-${dc}`),
          `${path}?delay=${HERD_DELAY_MS}`,
        )),
    );
    return { ...herd, shardCalls, originFetches: originFetches(origin, path) };
  } catch (error) {
    return { error: (error as Error).message.split("\n")[0] };
  } finally {
    if (runtime !== null) await runtime.dispose();
    await bundle.dispose();
  }
}

async function main(): Promise<void> {
  const sourceRef = sourceRefFromArgs(process.argv);
  const baselineRef = process.argv.find((a) => a.startsWith("--baseline="))?.slice("--baseline=".length) ?? BASELINE_REF;
  console.error(`machine: ${machineLine(machineInfo(await workerdVersion()))}`);
  const origin = await startDemoOrigin(await portFrom(ports));
  const bundle = await bundleShardcache(sourceRef);
  const cacheApiOnly = await readFile(join(REPO_ROOT, "bench/workers/cache-api-only.js"), "utf8");
  const owner = `shardcache-${DCS[0]}`;
  const set = (prefix: string, settings: Record<string, unknown>): WorkerSpec[] =>
    DCS.map((dc) => ({ name: `${prefix}-${dc}`, config: { settings: { trace: true, ...settings } }, cacheApi: false, ...(`${prefix}-${dc}` === owner ? {} : { doOwner: owner }) }));
  const workers: WorkerSpec[] = [
    ...set("shardcache", {}),
    ...set("hot", { primaries: 2, edgeTtlCapSeconds: 0 }),
    ...set("fault", { edgeTtlCapSeconds: 0, shardTimeoutMs: 2_000 }),
    ...DCS.map((dc) => ({ name: `cache-api-only-${dc}`, script: cacheApiOnly, bindings: { ORIGIN_URL: origin.url, CACHE_NAME: `dc-${dc}` } })),
  ];
  let runtime: Runtime | null = null;
  const rows: (string | number)[][] = [];
  const json: Record<string, unknown> = { date: new Date().toISOString(), command: `npm run simulate${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}` };
  try {
    progress(`starting workerd: ${workers.length} workers (${DCS.length} data centres × 3 shardcache configs + ${DCS.length} Cache-API-only), one CacheShard namespace`);
    runtime = await startRuntime(bundle, origin.url, workers, { ports });
    const dcWorkers = (prefix: string) => DCS.map((dc) => `${prefix}-${dc}`);

    progress(`1. herd: ${HERD} concurrent cold requests for one object over ${DCS.length} data centres (origin delay ${HERD_DELAY_MS} ms)`);
    const herdPath = `/sim-herd-${Date.now()}`;
    let herd!: Awaited<ReturnType<typeof spreadHerd>>;
    const herdCalls = await shardCallsDuring(runtime, owner, async () => void (herd = await spreadHerd(runtime!, dcWorkers("shardcache"), `${herdPath}?delay=${HERD_DELAY_MS}`)));
    const herdFetches = originFetches(origin, herdPath);
    const baseline = await baselineHerd(origin, baselineRef);
    const beside = "error" in baseline ? `baseline ${baselineRef} did not run: ${baseline.error}` : `baseline git ${baselineRef}: ${baseline.shardCalls} shard calls, ${baseline.originFetches} origin fetch(es)`;
    rows.push([
      `herd, shardcache (${DCS.length} DCs)`,
      `${herd.requests} requests (${herd.requests / DCS.length} per DC), ${herd.ok} ok`,
      `**${herdFetches}** origin fetch(es), **${herdCalls}** shard calls (${beside})`,
      `1 fetch, ≤ ${DCS.length} calls`,
      herdFetches === 1 && herdCalls <= DCS.length && herd.ok === herd.requests ? "met" : "**missed**",
    ]);
    json.herd = { ...herd, originFetches: herdFetches, shardCalls: herdCalls, baseline };

    progress("2. the same herd through Cache-API-only workers");
    const capiPath = `/sim-capi-${Date.now()}`;
    const capi = await spreadHerd(runtime, dcWorkers("cache-api-only"), `${capiPath}?delay=${HERD_DELAY_MS}`);
    const capiFetches = originFetches(origin, capiPath);
    await sleep(300);
    // A second wave once the copies are stored: each data centre still needs its own fetch.
    const capiWave2 = await spreadHerd(runtime, dcWorkers("cache-api-only"), `${capiPath}?delay=${HERD_DELAY_MS}`);
    const capiFetches2 = originFetches(origin, capiPath) - capiFetches;
    rows.push([`herd, Cache-API-only worker (${DCS.length} DCs)`, `${capi.requests} requests, ${capi.ok} ok`, `**${capiFetches}** origin fetches (a second herd after the puts: ${capiFetches2} more)`, "contrast", "–"]);
    json.cacheApiOnly = { ...capi, originFetches: capiFetches, secondWave: { ...capiWave2, originFetches: capiFetches2 } };

    progress(`3. one hot key, primaries = 2, edge tier off (edgeTtlCapSeconds 0): ${HOT_REQUESTS} requests over ${DCS.length} DCs`);
    const hotPath = `/sim-hot-${Date.now()}`;
    const split = new Map<string, number>();
    let hotErrors = 0;
    const agent = keepAliveAgent(8);
    const hotWorkers = dcWorkers("hot");
    await Promise.all(
      Array.from({ length: 8 }, async (_, loop) => {
        for (let i = loop; i < HOT_REQUESTS; i += 8) {
          try {
            const reply = await get(`${runtime!.url(hotWorkers[i % hotWorkers.length]!)}${hotPath}`, agent, 10_000, hostHeader);
            if (reply.status !== 200) hotErrors++;
            const shard = answeringShard(reply.headers["x-cluster-trace"]) ?? "none";
            split.set(shard, (split.get(shard) ?? 0) + 1);
          } catch {
            hotErrors++;
          }
        }
      }),
    );
    agent.destroy();
    const hotFetches = originFetches(origin, hotPath);
    const splitText = [...split]
      .sort((a, b) => b[1] - a[1])
      .map(([s, n]) => `${s}: ${n} (${((n / HOT_REQUESTS) * 100).toFixed(0)} %)`)
      .join(", ");
    const shares = [...split.values()];
    const balanced = split.size === 2 && Math.min(...shares) / HOT_REQUESTS >= 0.35;
    rows.push([`hot key, primaries = 2`, `${HOT_REQUESTS} requests, ${hotErrors} errors`, `per-shard split ${splitText}; ${hotFetches} origin fetches (one per primary)`, "both shards share the load", balanced ? "met" : "**missed**"]);
    json.hotKey = { requests: HOT_REQUESTS, errors: hotErrors, split: Object.fromEntries(split), originFetches: hotFetches };

    progress(`4. shard removed mid-run: ${FAULT_RATE} req/s for ${FAULT_MS / 1000} s over ${DCS.length} DCs, the key's primary throws from ${FAULT_MS / 3000} s on`);
    const faultPath = `/sim-fault-${Date.now()}`;
    const faultWorkers = dcWorkers("fault");
    const first = await get(`${runtime.url(faultWorkers[0]!)}${faultPath}`, keepAliveAgent(1), 10_000, hostHeader);
    const primary = answeringShard(first.headers["x-cluster-trace"]);
    if (primary === null) throw new Error(`no shard in the trace: ${String(first.headers["x-cluster-trace"])}`);
    const ns = await runtime.mf.getDurableObjectNamespace("CACHE_SHARD", owner);
    const stub = ns.get(ns.idFromName(primary)) as unknown as { setFault(fault: { mode: "none" | "throw" | "hang" }): Promise<void> };
    let n = 0;
    let faultAtMs = Number.NaN;
    const faultTimer = setTimeout(() => {
      faultAtMs = performance.now();
      void stub.setFault({ mode: "throw" });
    }, FAULT_MS / 3);
    const loopStart = performance.now();
    const run = await openLoop({ rate: FAULT_RATE, durationMs: FAULT_MS, maxInFlight: 64, headers: hostHeader, next: () => ({ url: `${runtime!.url(faultWorkers[n++ % faultWorkers.length]!)}${faultPath}`, tag: n }) });
    clearTimeout(faultTimer);
    await stub.setFault({ mode: "none" });
    const faultAt = faultAtMs - loopStart;
    const before = new Map<string, number>();
    const after = new Map<string, number>();
    let failedOver = 0;
    for (const s of run.samples) {
      const shard = answeringShard(s.headers?.["x-cluster-trace"]) ?? "origin-direct";
      const bucket = s.scheduledMs < faultAt ? before : after;
      bucket.set(shard, (bucket.get(shard) ?? 0) + 1);
      if (/FAIL/.test(String(s.headers?.["x-cluster-trace"] ?? ""))) failedOver++;
    }
    const nonOk = run.samples.filter((s) => s.status !== 200).length;
    const hits = run.samples.filter((s) => isHit(s.headers?.["cache-status"])).length;
    const faultFetches = originFetches(origin, faultPath);
    const took = [...after.keys()].filter((s) => s !== primary).join(", ") || "none";
    const describe = (m: Map<string, number>) => [...m].map(([s, c]) => `${s}: ${c}`).join(", ");
    rows.push([
      `primary ${primary} throws mid-run (fallback 3)`,
      `${run.samples.length} requests, ${nonOk} errors, ${run.dropped} dropped; ${hits} hits`,
      `before the fault ${describe(before)}; after: ${describe(after)} (${failedOver} answers skipped the failed shard); took over: **${took}**; ${faultFetches} origin fetches`,
      "0 errors",
      nonOk === 0 && run.dropped === 0 ? "met" : "**missed**",
    ]);
    json.shardFault = { primary, tookOver: took, requests: run.samples.length, errors: nonOk, dropped: run.dropped, before: Object.fromEntries(before), after: Object.fromEntries(after), failedOver, originFetches: faultFetches };

    console.log(`Machine: ${machineLine(machineInfo(await workerdVersion()))}`);
    console.log(`Command: \`${json.command}\`; ${DCS.length} simulated data centres (${DCS.join(", ")}) on one workerd, one CacheShard namespace.\n`);
    console.log(markdownTable(["scenario", "traffic", "result", "goal", ""], rows));
    console.error(JSON.stringify(json));
    progress("done");
  } finally {
    if (runtime !== null) await runtime.dispose();
    await bundle.dispose();
    await origin.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
