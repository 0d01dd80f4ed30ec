/**
 * The hit path of `npm run bench` (issue 15, and counting's cost from issue 16): every hit workload
 * beside its references, on ONE workerd (Miniflare API, one direct loopback socket per worker), each
 * figure with the workerd process's own CPU time per request.
 *
 * Workers: a bare constant-body worker; a bare Durable Object round trip (the hop a shard hit pays,
 * BARE_DO_WORKER_SCRIPT); the edge-tier hit with a production-style config (config/production.json:
 * verbose and trace off) and with the shipped dev config (config/default.json: both on); the
 * production edge hit with counting off (EDGE_COUNTING=off, a binding only the bench sets) and with a
 * rate-class check; the shard-tier hit (edgeTtlCapSeconds 0).
 *
 * (1) Closed loop (wrk): throughput, interleaved round by round so the machine's drift hits all alike;
 *     each ratio is the median of its per-round ratios (both sides measured seconds apart). Then each
 *     goal's two sides again in adjacent 1 s runs, alternating (A B, B A, …): workerd's throughput here
 *     drifts by ±20 % within seconds, even for the bare worker alone, so a ratio of runs 15 s apart
 *     swings with it, and adjacent runs share the state. The goals are judged on these pairs.
 * (2) Fixed rate (open loop, scripts/lib/fixed-rate.ts): half the closed-loop throughput of the
 *     slower of the bare worker and the edge hit, for bare, edge and uncounted edge hits; and half the
 *     shard hit's own throughput for bare, bare-DO and shard, where the shard can keep up. The
 *     workloads of one rate share one stream, interleaved in 200 ms slices (A B C C B A …), and each
 *     one's p50/p99/p99.9 (from each request's due time) is taken over all its samples, at least
 *     10,000 of them. The slices are short because workerd pauses for 30–180 ms every second or so
 *     under load (its main thread busy; the same generator against nginx or a Node server sees
 *     none): with 1 s slices each pause fell on one workload, and which one decided the p99s.
 * CPU per request = (utime + stime of the workerd process, /proc, after − before) / requests served.
 * Under closed-loop saturation one isolate's process runs about one core, so there it is close to
 * 1 / throughput; at a fixed rate below saturation it is the work per request.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixedRateInterleaved, type FixedRateResult } from "./lib/fixed-rate";
import { throughput, type ThroughputResult } from "./lib/load";
import { cpuMillis, withCpu } from "./lib/proc-cpu";
import { BARE_ANSWER_WORKER_SCRIPT, BARE_DO_WORKER_SCRIPT, BARE_WORKER_SCRIPT, REPO_ROOT, type Runtime, type WorkerSpec } from "./lib/runtime";
import { fmt, interquartile, markdownTable, median } from "./lib/stats";

/** Acceptance goals of issue 15 (hit path) and issue 16 (counting). */
export const HIT_GOALS = {
  /** Edge hit throughput ≥ this × bare worker. */
  edgeHitRatio: 0.9,
  /** Edge hit CPU per request ≤ this × bare worker's (at the fixed rate). */
  edgeCpuRatio: 1.3,
  /** Shard hit throughput ≥ this × the bare Durable Object round trip. */
  shardOverBareDo: 0.8,
  /** The rate-class check costs ≤ this share of the edge hit's throughput. */
  rateCheckCost: 0.1,
  /** Edge hit p99 ≤ this × bare's at the same fixed rate. */
  edgeP99Ratio: 1.5,
  /** Counting costs ≤ this share of the edge hit's throughput. */
  countingCost: 0.05,
};

/** A config file of the repository as the bench stores it in KV: the demo origin (ORIGIN_URL) stands in for its `settings.origin`. */
export function shippedConfig(file: "production.json" | "default.json"): { settings: Record<string, unknown>; rules: unknown[]; [k: string]: unknown } {
  const doc = JSON.parse(readFileSync(join(REPO_ROOT, "config", file), "utf8")) as { settings: Record<string, unknown>; rules: unknown[] };
  const { origin: _origin, ...settings } = doc.settings;
  return { ...doc, settings };
}

export const HIT_OWNER = "edge-prod";

/** The workers of the hit phase (the DO owner first). */
export function hitWorkers(): WorkerSpec[] {
  const prod = shippedConfig("production.json");
  return [
    { name: HIT_OWNER, config: prod },
    { name: "edge-dev", config: shippedConfig("default.json"), doOwner: HIT_OWNER },
    { name: "edge-uncounted", config: prod, doOwner: HIT_OWNER, vars: { EDGE_COUNTING: "off" } },
    // A rate class generous enough never to refuse: what is measured is the cost of the check itself.
    {
      name: "edge-rated",
      config: { ...prod, rateClasses: { bench: { perSecond: 1_000_000 } }, rules: [{ name: "rated", match: { path: "/hot-rated" }, actions: { rateClass: { name: "bench" } } }, ...prod.rules] },
      doOwner: HIT_OWNER,
    },
    { name: "shard-tier", config: { ...prod, settings: { ...prod.settings, edgeTtlCapSeconds: 0 } }, doOwner: HIT_OWNER },
    { name: "bare", script: BARE_WORKER_SCRIPT },
    // The same script again, as its own worker: the control pair (bare twin / bare) has nothing to find.
    { name: "bare-twin", script: BARE_WORKER_SCRIPT },
    { name: "bare-answer", script: BARE_ANSWER_WORKER_SCRIPT },
    { name: "bare-do", script: BARE_DO_WORKER_SCRIPT, durableObjects: { CONSTANT: "ConstantObject" } },
  ];
}

interface Target {
  id: TargetId;
  name: string;
  url: string;
  /** Cache-Status of a warmed request must match (null: a reference worker, no Cache-Status). */
  expect: RegExp | null;
  /** Request fields every request of this workload sends. */
  headers?: Record<string, string>;
}

type TargetId = "bare" | "bareTwin" | "bareAnswer" | "bareDo" | "edgeProd" | "edgeDev" | "edgeUncounted" | "edgeRated" | "shard" | "shardCall";

/**
 * The edge collapses concurrent requests for one key onto one shard call (src/edge/single-flight.ts),
 * so with 32 connections on one key the plain shard row partly measures that collapsing. A request
 * directive opts out of it (mayShareFlight); min-fresh=0 asks nothing a fresh hit does not already
 * satisfy, so every request of this row is its own shard call answered by a hit: the per-call cost the
 * "≥ 0.8× a bare Durable Object round trip" goal is about.
 */
const OWN_SHARD_CALL = { "cache-control": "min-fresh=0" };

function targets(runtime: Runtime): Target[] {
  return [
    { id: "bare", name: "bare worker (constant body)", url: `${runtime.url("bare")}/`, expect: null },
    { id: "bareTwin", name: "bare worker again, a second worker with the same script (the control)", url: `${runtime.url("bare-twin")}/`, expect: null },
    { id: "bareAnswer", name: "bare worker answering the edge hit's own answer (its headers and body)", url: `${runtime.url("bare-answer")}/`, expect: null },
    { id: "bareDo", name: "bare Durable Object round trip (constant body)", url: `${runtime.url("bare-do")}/`, expect: null },
    { id: "edgeProd", name: "edge-tier hit, production config (verbose, trace off)", url: `${runtime.url(HIT_OWNER)}/hot`, expect: /shardcache-edge;hit/ },
    { id: "edgeDev", name: "edge-tier hit, shipped dev config (verbose, trace on)", url: `${runtime.url("edge-dev")}/hot-dev`, expect: /shardcache-edge;hit/ },
    { id: "edgeUncounted", name: "edge-tier hit, production config, counting off", url: `${runtime.url("edge-uncounted")}/hot-uncounted`, expect: /shardcache-edge;hit/ },
    { id: "edgeRated", name: "edge-tier hit, production config + rate-class check", url: `${runtime.url("edge-rated")}/hot-rated`, expect: /shardcache-edge;hit/ },
    { id: "shard", name: "shard-tier hit, production config (edgeTtlCapSeconds 0)", url: `${runtime.url("shard-tier")}/hot-shard`, expect: /shardcache-shard;hit/ },
    { id: "shardCall", name: "shard-tier hit, every request its own shard call (Cache-Control: min-fresh=0)", url: `${runtime.url("shard-tier")}/hot-shard`, expect: /shardcache-shard;hit/, headers: OWN_SHARD_CALL },
  ];
}

export interface ClosedRun extends ThroughputResult {
  cpuMs: number | null;
  cpuUsPerRequest: number | null;
}

export interface ClosedSummary {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number | null;
  errors: number;
  runs: ClosedRun[];
}

/**
 * One workload at a fixed rate: its samples pooled over the interleaved slices it had the stream
 * for (percentiles over all of them, not a median of per-run percentiles).
 */
export interface FixedSummary extends Omit<FixedRateResult, "firstHeaders"> {
  name: string;
  /** Slices (FIXED_SLICE_MS) this workload had the stream for. */
  slices: number;
  cpuUsPerRequest: number | null;
  cacheStatus: string | null;
}

/** One goal's comparison in adjacent runs: `a`'s throughput and CPU per request over `b`'s, medians of the pairs. */
export interface Paired {
  a: TargetId;
  b: TargetId;
  pairs: number;
  ratio: number;
  /** The middle half of the pairs' throughput ratios (25th, 75th percentile). */
  spread: [number, number];
  cpuRatio: number | null;
}

/** The comparisons run as pairs: [a, b], a's throughput over b's. */
const PAIRS = {
  /**
   * Two workers running the same script: the ratio is 1 by construction, so how far its median and
   * its middle half stray from 1 is what this run's machine can resolve (workerd's throughput here
   * swings by ±20 % from one second to the next, and a single pair says little).
   */
  control: ["bareTwin", "bare"],
  edgeProd: ["edgeProd", "bare"],
  edgeDev: ["edgeDev", "bare"],
  edgeOverBareAnswer: ["edgeProd", "bareAnswer"],
  rated: ["edgeRated", "edgeProd"],
  counted: ["edgeProd", "edgeUncounted"],
  shardCall: ["shardCall", "bareDo"],
} as const satisfies Record<string, readonly [TargetId, TargetId]>;
type PairId = keyof typeof PAIRS;

export interface HitResults {
  loadAverage: { before: number[]; after: number[] };
  closed: Record<TargetId, ClosedSummary>;
  /** Per-round ratios, median over rounds. */
  ratios: {
    edgeProd: number;
    bareAnswerOverBare: number;
    edgeOverBareAnswer: number;
    edgeDev: number;
    shardOverBare: number;
    shardOverBareDo: number;
    shardCallOverBareDo: number;
    bareDoOverBare: number;
    rateCheckCost: number;
    countingCost: number;
  };
  /**
   * Each goal's two sides from adjacent 1 s runs, alternating (A B, B A, …): the median of the pairs'
   * ratios. Adjacent runs share the machine's state far better than the 5 s rounds, where other
   * workloads run between the two; the goals are judged on these.
   */
  paired: Record<PairId, Paired>;
  /** Counting's cost from the edgeProd / edgeUncounted pairs: of throughput, and of CPU per request. */
  countingPaired: { pairs: number; throughputCost: number; cpuCost: number | null };
  fixed: {
    /** workerd's CPU with no load, ms per second; taken off every fixed-rate CPU figure. */
    idleCpuMsPerSecond: number;
    rate: number;
    /** How the rate was chosen. */
    rateNote: string;
    atRate: Partial<Record<TargetId, FixedSummary>>;
    shardRate: number;
    atShardRate: Partial<Record<TargetId, FixedSummary>>;
    /** Edge p99 / bare p99 and the CPU per request ratios at `rate`, from the pooled, interleaved samples. */
    edgeP99Ratio: number;
    edgeCpuRatio: number;
    countingCpuCost: number;
  };
}

export interface HitPlan {
  repeats: number;
  /** Alternating 1 s runs of each goal's two sides (and of the counted and the uncounted edge hit). */
  goalPairs: number;
  runMs: number;
  connections: number;
  fixedMs: number;
  fixedConnections: number;
}

const IDLE_SAMPLE_MS = 2_000;
/** The fixed-rate stream changes workload every slice (see fixedRateInterleaved): shorter than workerd's pauses are apart, so each pause falls on every workload alike. */
const FIXED_SLICE_MS = 200;
/** One run of a pair (`pairedRuns`). */
const PAIR_RUN_MS = 1_000;
/** Samples per workload at a fixed rate, at least: a p99.9 needs 10,000 to rest on 10 (the quick plan settles for fewer). */
const FIXED_MIN_SAMPLES = 10_000;
const FIXED_MIN_SAMPLES_QUICK = 2_000;
/** A fixed-rate run whose backlog passes this much traffic is reported overloaded (its latencies are a queue's). */
const FIXED_MAX_BACKLOG_MS = 500;
const cpuPer = (cpuMs: number | null, requests: number) => (cpuMs === null || requests === 0 ? null : (cpuMs * 1000) / requests);
const loadAverage = () => {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
};

/** Hands the bare-answer worker the status, fields and body of one answer from `from`. */
async function teachBareAnswer(from: string, to: string): Promise<void> {
  const hit = await fetch(from);
  const answer = { status: hit.status, headers: [...hit.headers], body: await hit.text() };
  const taught = await fetch(to, { method: "PUT", body: JSON.stringify(answer) });
  if (taught.status !== 200) throw new Error(`bare-answer worker: status ${taught.status}`);
  await taught.arrayBuffer();
}

async function warm(t: Target): Promise<void> {
  let status = "";
  for (let i = 0; i < 5; i++) {
    const reply = await fetch(t.url, { headers: t.headers ?? {} });
    status = reply.headers.get("cache-status") ?? "";
    await reply.arrayBuffer();
    if (reply.status !== 200) throw new Error(`${t.name}: status ${reply.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (t.expect !== null && !t.expect.test(status)) throw new Error(`${t.name}: expected Cache-Status matching ${t.expect}, got "${status}"`);
}

const medianOf = (values: readonly (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === 0 ? null : median(known);
};

export async function runHitPhase(runtime: Runtime, plan: HitPlan, progress: (text: string) => void): Promise<HitResults> {
  const all = targets(runtime);
  const by = Object.fromEntries(all.map((t) => [t.id, t])) as Record<TargetId, Target>;
  // The bare-answer worker learns the production edge hit's answer first (warm the hit, hand it over).
  await warm(by.edgeProd);
  await teachBareAnswer(by.edgeProd.url, by.bareAnswer.url);
  for (const t of all) await warm(t);
  const before = loadAverage();
  progress(`hit path, closed loop: ${all.length} workloads × ${plan.repeats} rounds × ${plan.runMs / 1000} s (interleaved); workerd pid(s) ${runtime.pids.join(", ") || "unknown"}; load average ${before.join(" ")}`);
  const closedRuns = new Map<TargetId, ClosedRun[]>(all.map((t) => [t.id, []]));
  for (let round = 0; round < plan.repeats; round++) {
    for (const t of all) {
      const { value, cpuMs } = await withCpu(runtime.pids, () => throughput(t.url, plan.runMs, plan.connections, undefined, t.headers));
      const run = { ...value, cpuMs, cpuUsPerRequest: cpuPer(cpuMs, value.requests) };
      closedRuns.get(t.id)!.push(run);
      progress(`  round ${round + 1} ${t.id}: ${fmt.int(run.rps)} req/s, p50 ${fmt.ms(run.p50Ms)}, CPU ${run.cpuUsPerRequest?.toFixed(0) ?? "?"} µs/req${run.errors ? `, ${run.errors} errors` : ""}`);
    }
  }
  const closed = Object.fromEntries(
    all.map((t) => {
      const runs = closedRuns.get(t.id)!;
      return [
        t.id,
        {
          name: t.name,
          rps: median(runs.map((r) => r.rps)),
          p50Ms: median(runs.map((r) => r.p50Ms)),
          p99Ms: median(runs.map((r) => r.p99Ms)),
          cpuUsPerRequest: medianOf(runs.map((r) => r.cpuUsPerRequest)),
          errors: runs.reduce((a, r) => a + r.errors, 0),
          runs,
        },
      ];
    }),
  ) as Record<TargetId, ClosedSummary>;
  const perRound = (a: TargetId, b: TargetId, f: (x: ClosedRun, y: ClosedRun) => number) => median(closedRuns.get(a)!.map((x, i) => f(x, closedRuns.get(b)![i]!)));
  const rpsRatio = (a: TargetId, b: TargetId) => perRound(a, b, (x, y) => x.rps / y.rps);
  const ratios = {
    edgeProd: rpsRatio("edgeProd", "bare"),
    bareAnswerOverBare: rpsRatio("bareAnswer", "bare"),
    edgeOverBareAnswer: rpsRatio("edgeProd", "bareAnswer"),
    edgeDev: rpsRatio("edgeDev", "bare"),
    shardOverBare: rpsRatio("shard", "bare"),
    shardOverBareDo: rpsRatio("shard", "bareDo"),
    shardCallOverBareDo: rpsRatio("shardCall", "bareDo"),
    bareDoOverBare: rpsRatio("bareDo", "bare"),
    rateCheckCost: 1 - rpsRatio("edgeRated", "edgeProd"),
    countingCost: 1 - rpsRatio("edgeProd", "edgeUncounted"),
  };

  // Each goal's two sides in adjacent short runs, the order alternating pair by pair (A B, B A, …).
  const runPair = async (id: TargetId): Promise<ClosedRun> => {
    const { value, cpuMs } = await withCpu(runtime.pids, () => throughput(by[id].url, PAIR_RUN_MS, plan.connections, undefined, by[id].headers));
    return { ...value, cpuMs, cpuUsPerRequest: cpuPer(cpuMs, value.requests) };
  };
  const paired = {} as Record<PairId, Paired>;
  for (const [pairId, [a, b]] of Object.entries(PAIRS) as [PairId, readonly [TargetId, TargetId]][]) {
    const ratios: { rps: number; cpu: number | null }[] = [];
    for (let i = 0; i < plan.goalPairs; i++) {
      const got = new Map<TargetId, ClosedRun>();
      for (const id of i % 2 === 0 ? [a, b] : [b, a]) got.set(id, await runPair(id));
      const [x, y] = [got.get(a)!, got.get(b)!];
      ratios.push({ rps: x.rps / y.rps, cpu: ratioOrNull(x.cpuUsPerRequest, y.cpuUsPerRequest) });
    }
    const rps = ratios.map((r) => r.rps);
    paired[pairId] = { a, b, pairs: ratios.length, ratio: median(rps), spread: interquartile(rps), cpuRatio: medianOf(ratios.map((r) => r.cpu)) };
    progress(`  ${a} / ${b}, ${ratios.length} alternating ${PAIR_RUN_MS / 1000} s pairs: ${pairText(paired[pairId])} throughput, ${paired[pairId].cpuRatio === null ? "?" : fmt.ratio(paired[pairId].cpuRatio!)} CPU per request`);
  }
  const counted = paired.counted;
  const countingPaired = { pairs: counted.pairs, throughputCost: 1 - counted.ratio, cpuCost: counted.cpuRatio === null ? null : 1 - 1 / counted.cpuRatio };

  // (2) Fixed rate. Half the closed-loop throughput of the slower of the two the goal compares (the
  // bare worker and the edge hit): at half the bare worker's, the edge hit (slower per request, and
  // sharing the cores with the Node generator, which wrk's closed loop does not) ran near or past
  // saturation, and a p99 there is its queue, not the hit. On a machine too busy to sustain even that
  // for either (a 2 s probe of each overloads), half again, at most three times.
  const slower = Math.min(closed.bare.rps, closed.edgeProd.rps);
  let rate = Math.max(100, Math.round(slower / 2 / 100) * 100);
  let rateNote = `half the closed-loop throughput of the slower of the bare worker and the edge hit (${closed.bare.rps <= closed.edgeProd.rps ? "the bare worker" : "the edge hit"})`;
  for (let halvings = 0; halvings < 3; halvings++) {
    const [probeBare, probeEdge] = await fixedRateInterleaved({ urls: [by.bare.url, by.edgeProd.url], rate, sliceMs: 1_000, slices: 1, connections: plan.fixedConnections, maxBacklogMs: 250 });
    if (!probeBare!.overloaded && !probeEdge!.overloaded) break;
    progress(`  the bare worker or the edge hit does not keep up with ${rate} req/s on this machine now (a probe overloaded): halving it`);
    rate = Math.max(100, Math.round(rate / 2 / 100) * 100);
    rateNote = `1/${2 ** (halvings + 2)} of the slower closed-loop throughput (a probe at the higher rate overloaded the machine)`;
  }
  // workerd spends some CPU with no request at all (timers, the runtime's own upkeep): measured here and
  // taken off the fixed-rate figures, which at a low rate it would otherwise dominate.
  const idle = await withCpu(runtime.pids, () => new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS)));
  const idleCpuPerSecond = idle.cpuMs === null ? 0 : (idle.cpuMs * 1000) / IDLE_SAMPLE_MS;
  progress(`  workerd idle: ${idleCpuPerSecond.toFixed(1)} ms CPU per second`);
  // Half of what one shard call per request sustains: the open-loop generator sends no request directive, so its shard row collapses like clients do, at a rate a per-call shard keeps up with.
  const shardRate = Math.max(50, Math.round(closed.shardCall.rps / 2 / 50) * 50);
  const minSamples = plan.repeats > 1 ? FIXED_MIN_SAMPLES : FIXED_MIN_SAMPLES_QUICK;
  const fixedAt = async (ids: readonly TargetId[], r: number): Promise<Partial<Record<TargetId, FixedSummary>>> => {
    // As many slices per target as fill the plan's rounds × run length, more where the rate is too low
    // for minSamples in that time (a p99.9 from fewer than 10,000 samples rests on a handful).
    const slices = Math.max(Math.round((plan.repeats * plan.fixedMs) / FIXED_SLICE_MS), Math.ceil(minSamples / ((r * FIXED_SLICE_MS) / 1000)));
    progress(`  ${ids.join(", ")} at ${r} req/s: ${slices} interleaved ${FIXED_SLICE_MS / 1000} s slices each (${(ids.length * slices * FIXED_SLICE_MS) / 1000} s)`);
    const cpu = new Map<number, number>();
    let current = -1;
    let mark = cpuMillis(runtime.pids);
    const results = await fixedRateInterleaved({
      urls: ids.map((id) => by[id].url),
      rate: r,
      sliceMs: FIXED_SLICE_MS,
      slices,
      connections: plan.fixedConnections,
      maxBacklogMs: FIXED_MAX_BACKLOG_MS,
      // workerd's CPU, read at each change of target and put on the target that had the stream.
      onSlice: (index) => {
        const reading = cpuMillis(runtime.pids);
        if (current >= 0 && reading !== null && mark !== null) cpu.set(current, (cpu.get(current) ?? 0) + reading - mark);
        mark = reading;
        current = index;
      },
    });
    const summaries: Partial<Record<TargetId, FixedSummary>> = {};
    for (const [i, id] of ids.entries()) {
      const { firstHeaders, ...run } = results[i]!;
      const cpuMs = cpu.has(i) ? Math.max(0, cpu.get(i)! - (idleCpuPerSecond * run.durationMs) / 1000) : null;
      summaries[id] = { ...run, name: by[id].name, slices, cpuUsPerRequest: cpuPer(cpuMs, run.completed), cacheStatus: firstHeaders["cache-status"] ?? null };
      progress(
        `  ${r} req/s ${id}: ${run.overloaded ? `OVERLOADED (sustained ${fmt.int(run.achievedRps)} req/s), ` : ""}${fmt.int(run.completed)} samples, p50 ${fmt.ms(run.p50Ms)}, p99 ${fmt.ms(run.p99Ms)}, p99.9 ${fmt.ms(run.p999Ms)}, CPU ${summaries[id]!.cpuUsPerRequest?.toFixed(0) ?? "?"} µs/req, generator lag p99 ${fmt.ms(run.generatorLagP99Ms)}, generator CPU ${run.generatorCpuUsPerRequest.toFixed(0)} µs/req`,
      );
    }
    return summaries;
  };
  progress(`hit path, fixed rate ${rate} req/s (${rateNote})`);
  const atRate = await fixedAt(["bare", "edgeProd", "edgeUncounted"], rate);
  progress(`hit path, fixed rate ${shardRate} req/s (half the shard hit's closed-loop throughput)`);
  const atShardRate = await fixedAt(["bare", "bareDo", "shard"], shardRate);
  const fixedRatio = (a: TargetId, b: TargetId, f: (x: FixedSummary) => number | null) => ratioOrNull(f(atRate[a]!), f(atRate[b]!)) ?? Number.NaN;
  const after = loadAverage();
  return {
    loadAverage: { before, after },
    closed,
    ratios,
    paired,
    countingPaired,
    fixed: {
      idleCpuMsPerSecond: idleCpuPerSecond,
      rate,
      rateNote,
      atRate,
      shardRate,
      atShardRate,
      edgeP99Ratio: fixedRatio("edgeProd", "bare", (x) => x.p99Ms),
      edgeCpuRatio: fixedRatio("edgeProd", "bare", (x) => x.cpuUsPerRequest),
      countingCpuCost: 1 - 1 / fixedRatio("edgeProd", "edgeUncounted", (x) => x.cpuUsPerRequest),
    },
  };
}

function ratioOrNull(a: number | null, b: number | null): number | null {
  return a === null || b === null || !(b > 0) ? null : a / b;
}

/** A pair's median ratio and the middle half of its pairs, e.g. "0.86× (0.75–0.97)". */
export const pairText = (p: Pick<Paired, "ratio" | "spread">) => `${fmt.ratio(p.ratio)} (${p.spread[0].toFixed(2)}–${p.spread[1].toFixed(2)})`;

const met = (ok: boolean) => (ok ? "met" : "**missed**");

/**
 * A goal judged on adjacent pairs: met or missed on the median, and for a miss, by how much beside how
 * far this run's control pair (the same script twice) strayed from 1.00×. A miss smaller than that
 * stray is one this run cannot tell from the machine's noise, and the verdict says so.
 */
export function pairVerdict(ok: boolean, missedBy: number, control: Pick<Paired, "ratio">): string {
  if (ok) return "met";
  const noise = Math.abs(1 - control.ratio);
  return `**missed** by ${missedBy.toFixed(2)}${missedBy <= noise ? `, less than the control's ${noise.toFixed(2)} from 1.00×: not resolved in this run` : ""}`;
}
const us = (v: number | null) => (v === null ? "–" : `${v.toFixed(0)} µs`);

export function hitReport(r: HitResults, command: string): string {
  const c = r.closed;
  const g = HIT_GOALS;
  const out: string[] = [];
  const load = `load average ${r.loadAverage.before.join(" ")} before, ${r.loadAverage.after.join(" ")} after`;
  out.push(`### Hit path on workerd, closed loop (\`${command}\`; ${load})`);
  const p = r.paired;
  const row = (id: TargetId, rounds: string, pairs: string, goal: string) => [c[id].name, fmt.int(c[id].rps), fmt.ms(c[id].p50Ms), us(c[id].cpuUsPerRequest), rounds, pairs, goal];
  const rateCheckCost = 1 - p.rated.ratio;
  const counting = r.countingPaired;
  out.push(
    markdownTable(
      [
        "workload",
        "req/s",
        "p50",
        "workerd CPU / request",
        "ratio, rounds (median of per-round ratios)",
        `ratio, adjacent ${PAIR_RUN_MS / 1000} s runs (median of ${p.edgeProd.pairs} alternating pairs; their middle half in brackets)`,
        "goal (judged on the pairs)",
      ],
      [
        row("bare", "1.00× bare", `the control, a second worker with the same script: ${pairText(p.control)} bare`, "reference; the control's distance from 1.00× is what this run can resolve"),
        row(
          "bareAnswer",
          `${fmt.ratio(r.ratios.bareAnswerOverBare)} bare; the edge hit runs at ${fmt.ratio(r.ratios.edgeOverBareAnswer)} of it`,
          `the edge hit runs at ${pairText(p.edgeOverBareAnswer)} of it`,
          "reference: what sending the hit's answer costs any worker",
        ),
        row("bareDo", `${fmt.ratio(r.ratios.bareDoOverBare)} bare`, "", "reference for the shard hit"),
        row(
          "edgeProd",
          `${fmt.ratio(r.ratios.edgeProd)} bare`,
          `${pairText(p.edgeProd)} bare (CPU per request ${p.edgeProd.cpuRatio === null ? "?" : fmt.ratio(p.edgeProd.cpuRatio)})`,
          `≥ ${g.edgeHitRatio}× bare: ${pairVerdict(p.edgeProd.ratio >= g.edgeHitRatio, g.edgeHitRatio - p.edgeProd.ratio, p.control)}`,
        ),
        row("edgeDev", `${fmt.ratio(r.ratios.edgeDev)} bare`, `${pairText(p.edgeDev)} bare`, "second row: the shipped dev config"),
        row(
          "edgeUncounted",
          `counting costs ${fmt.pct(r.ratios.countingCost)} of the edge hit's throughput`,
          `counting costs ${fmt.pct(counting.throughputCost)} of throughput, ${counting.cpuCost === null ? "?" : fmt.pct(counting.cpuCost)} of CPU per request`,
          `≤ ${fmt.pct(g.countingCost)}: ${pairVerdict(counting.throughputCost <= g.countingCost, counting.throughputCost - g.countingCost, p.control)}`,
        ),
        row(
          "edgeRated",
          `the check costs ${fmt.pct(r.ratios.rateCheckCost)} of the edge hit's throughput`,
          `the check costs ${fmt.pct(rateCheckCost)}`,
          `≤ ${fmt.pct(g.rateCheckCost)}: ${pairVerdict(rateCheckCost <= g.rateCheckCost, rateCheckCost - g.rateCheckCost, p.control)}`,
        ),
        row("shard", `${fmt.ratio(r.ratios.shardOverBareDo)} bare DO round trip, ${fmt.ratio(r.ratios.shardOverBare)} bare`, "", "as clients see it: concurrent requests for the key collapse at the edge"),
        row(
          "shardCall",
          `${fmt.ratio(r.ratios.shardCallOverBareDo)} bare DO round trip`,
          `${pairText(p.shardCall)} bare DO round trip`,
          `≥ ${g.shardOverBareDo}× bare DO: ${pairVerdict(p.shardCall.ratio >= g.shardOverBareDo, g.shardOverBareDo - p.shardCall.ratio, p.control)}`,
        ),
      ],
    ),
  );
  out.push("");
  const f = r.fixed;
  const fixedRow = (s: FixedSummary | undefined, goal: string) =>
    s === undefined
      ? []
      : [
          s.name,
          `${fmt.int(s.rate)} req/s, ${fmt.int(s.completed)} samples${s.overloaded ? ` (**overloaded**: sustained ${fmt.int(s.achievedRps)} req/s, stopped after ${fmt.int(s.durationMs / 1000)} s)` : ""}`,
          fmt.ms(s.p50Ms),
          fmt.ms(s.p99Ms),
          fmt.ms(s.p999Ms),
          us(s.cpuUsPerRequest),
          goal,
        ];
  out.push(
    `### Hit path at a fixed request rate (open loop, latency from each request's due time; the workloads of a rate interleaved in ${FIXED_SLICE_MS} ms slices, percentiles over all their samples; same command and run; ${fmt.int(f.rate)} req/s = ${f.rateNote})`,
  );
  const edgeCpuOk = f.edgeCpuRatio <= g.edgeCpuRatio;
  out.push(
    markdownTable(
      ["workload", "rate", "p50", "p99", "p99.9", "workerd CPU / request", "goal"],
      [
        fixedRow(f.atRate.bare, "reference"),
        fixedRow(f.atRate.edgeProd, `p99 ${fmt.ratio(f.edgeP99Ratio)} bare (≤ ${g.edgeP99Ratio}×: ${met(f.edgeP99Ratio <= g.edgeP99Ratio)}); CPU ${fmt.ratio(f.edgeCpuRatio)} bare (≤ ${g.edgeCpuRatio}×: ${met(edgeCpuOk)})`),
        fixedRow(f.atRate.edgeUncounted, `counting costs ${fmt.pct(f.countingCpuCost)} of the edge hit's CPU per request`),
        fixedRow(f.atShardRate.bare, "reference at the shard's rate"),
        fixedRow(f.atShardRate.bareDo, "reference for the shard hit"),
        fixedRow(f.atShardRate.shard, ""),
      ].filter((cells) => cells.length > 0),
    ),
  );
  const lag = Math.max(...Object.values(f.atRate).map((s) => s?.generatorLagP99Ms ?? 0));
  const generatorCpu = Math.max(...Object.values(f.atRate).map((s) => s?.generatorCpuUsPerRequest ?? 0));
  out.push("");
  out.push(
    `Generator lag p99 (its own lateness, included in the latency figures): up to ${fmt.ms(lag)} at ${fmt.int(f.rate)} req/s; the generator's own CPU ${generatorCpu.toFixed(0)} µs per request. CPU per request at a fixed rate is net of workerd's idle CPU (${f.idleCpuMsPerSecond.toFixed(1)} ms per second, measured before).`,
  );
  return out.join("\n");
}
