/**
 * Rule-evaluation micro-benchmark (`npx tsx scripts/bench-rules.ts`): 10, 100 and 1,000 generated
 * rules (a tenth of them response rules, whose request conditions are evaluated with the rest),
 * for a request that matches the last rule and one that matches none, timed per evaluation
 * (p50 / p99 in µs, timer overhead subtracted, median of several repeats after a warm-up).
 */
import { pathToFileURL } from "node:url";
import { compileRules, type CompiledRules, type RuleRequest } from "../src/rules/match";
import { ruleSchema, type Rule } from "../src/rules/schema";
import { seededRandom as prng } from "../src/lib/seeded-random";

export interface RulesBenchRow {
  rules: number;
  scenario: string;
  p50Micros: number;
  p99Micros: number;
}

const HOSTS = Array.from({ length: 20 }, (_, i) => `site${i}.example.com`);
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const HEADERS = ["x-tenant", "x-debug", "accept-language", "x-device", "x-ab"];

/**
 * Rules with varied conditions. `sharedHost` puts every rule on the benchmark's own host, the worst
 * case for the host/method index: every rule must then be tested on path, headers and the rest.
 */
function generateRules(count: number, sharedHost: boolean, random: () => number): Rule[] {
  const rules: Rule[] = [];
  for (let i = 0; i < count - 2; i++) {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const shape = i % 5;
    const path = shape === 0 ? `/section${i}/**` : shape === 1 ? { regex: `^/api/v${i}/` } : shape === 2 ? `/files/${i}/*.png` : shape === 3 ? `/page-${i}` : "/target/**";
    const match: Record<string, unknown> = { path };
    // Rules on the target's own path that fail on a header value, so the header is really read.
    if (shape === 4) match.headers = { "x-tenant": `v${i}` };
    if (sharedHost) match.host = "bench.example.com";
    else if (random() < 0.7) match.host = random() < 0.2 ? "*.example.net" : pick(HOSTS);
    if (random() < 0.5) match.method = random() < 0.5 ? pick(METHODS) : ["GET", "HEAD"];
    if (shape !== 4 && random() < 0.3) match.headers = { [pick(HEADERS)]: random() < 0.5 ? true : `v${i}` };
    if (random() < 0.1) match.query = { [`q${i % 7}`]: random() < 0.5 };
    // Every tenth rule is a response rule (evaluated on its request conditions here, on the response at the shard).
    const response = i % 10 === 9;
    if (response) match.response = i % 20 === 9 ? { status: { min: 500, max: 599 } } : { status: 404, contentType: "text/*" };
    rules.push(ruleSchema.parse({ name: `rule-${i}`, match, actions: response ? { cache: false, tags: [`t${i}`] } : { ttl: i, tags: [`t${i}`] } }));
  }
  // One response rule every request meets on its request side: the shard gets it with each call.
  rules.push(ruleSchema.parse({ name: "no-store-errors", match: { response: { status: { min: 500, max: 599 } } }, actions: { cache: false } }));
  // The target: matched only by the "last" request, after everything above has been tried.
  rules.push(ruleSchema.parse({ name: "last", match: { host: "bench.example.com", path: "/target/**", headers: { "x-tenant": "acme" } }, actions: { ttl: 60 } }));
  return rules;
}

function request(path: string, tenant: string, host = "bench.example.com"): RuleRequest {
  const headers = new Headers({ "x-tenant": tenant, "accept-language": "en", cookie: "session=abc" });
  return { method: "GET", url: new URL(`https://${host}${path}?a=1`), headers, clientIp: "203.0.113.7", country: "NL" };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Times `iterations` single evaluations; returns per-evaluation p50 / p99 in µs, minus the timer's own cost. */
function timeOnce(rules: CompiledRules, reqs: readonly RuleRequest[], iterations: number, expect: string | null): { p50: number; p99: number } {
  const samples = new Float64Array(iterations);
  const overhead = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const req = reqs[i % reqs.length]!;
    const t0 = process.hrtime.bigint();
    const result = rules.evaluate(req);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    if ((result.matched[0] ?? null) !== expect) throw new Error(`bench request matched ${String(result.matched[0])}, expected ${String(expect)}`);
    const o0 = process.hrtime.bigint();
    overhead[i] = Number(process.hrtime.bigint() - o0);
  }
  samples.sort();
  overhead.sort();
  const timer = percentile(overhead, 50);
  return { p50: Math.max(0, percentile(samples, 50) - timer) / 1000, p99: Math.max(0, percentile(samples, 99) - timer) / 1000 };
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export function runRulesBench(options: { sizes?: number[]; iterations?: number; repeats?: number } = {}): RulesBenchRow[] {
  const { sizes = [10, 100, 1000], iterations = 20_000, repeats = 5 } = options;
  const rows: RulesBenchRow[] = [];
  for (const size of sizes) {
    for (const sharedHost of [false, true]) {
      const rules = compileRules(generateRules(size, sharedHost, prng(size)));
      // More distinct hosts than the memo holds defeats it: the cost an attacker forging Host headers sees.
      const freshHosts = Array.from({ length: 10_000 }, (_, i) => request("/nowhere/x", "other", `h${i}-${size}.example.org`));
      const scenarios: [string, RuleRequest[], string | null][] = [
        ["last rule", [request("/target/x", "acme")], "last"],
        ["no match", [request("/target/x", "other")], null],
        ["no match, new host each time", freshHosts, null],
      ];
      for (const [name, reqs, expect] of scenarios) {
        if (sharedHost && reqs.length > 1) continue; // the forged-host case does not depend on the rules' hosts
        timeOnce(rules, reqs, iterations, expect); // warm-up: JIT and the host/method memo
        const runs = Array.from({ length: repeats }, () => timeOnce(rules, reqs, iterations, expect));
        const scenario = `${name}${sharedHost ? ", all rules on the request's host" : ", varied hosts"}`;
        rows.push({ rules: size, scenario, p50Micros: median(runs.map((r) => r.p50)), p99Micros: median(runs.map((r) => r.p99)) });
      }
    }
  }
  return rows;
}

/** Patterns that take exponential or polynomial time on a backtracking engine; config regexes run on RE2 (src/lib/linear-regex.ts). */
const CATASTROPHIC = ["^/(a+)+$", "^/(a|aa)+$", "^/(a*)*b$", "^/(x+x+)+y$", "^/.*a.*b.*c.*d$", "^/files/.*/.*/.*\\.png$"];

/** 10 kB paths built to make those patterns (and the globs) work hardest. */
const HOSTILE_PATHS: [string, string][] = [
  ["a×10k then !", `/${"a".repeat(10_000)}!`],
  ["x×10k", `/${"x".repeat(10_000)}`],
  ["files/ then a/ ×5k", `/files/${"a/".repeat(5_000)}`],
  ["target/ then x×10k", `/target/${"x".repeat(10_000)}`],
];

export interface HostileBenchRow {
  path: string;
  maxMillis: number;
  medianMillis: number;
}

/** 1,000 rules on the request's host (the worst case), plus the catastrophic patterns, against each hostile path. */
export function runHostileBench(options: { runs?: number } = {}): HostileBenchRow[] {
  const { runs = 20 } = options;
  const random = prng(1000);
  const rules = [
    ...CATASTROPHIC.map((regex, i) => ruleSchema.parse({ name: `catastrophic-${i}`, match: { host: "bench.example.com", path: { regex } }, actions: { pass: true } })),
    ...generateRules(1000 - CATASTROPHIC.length, true, random),
  ];
  const compiled = compileRules(rules);
  return HOSTILE_PATHS.map(([name, path]) => {
    const req = request(path, "other");
    compiled.evaluate(req); // warm-up
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      compiled.evaluate(req);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { path: name, maxMillis: Math.max(...times), medianMillis: median([...times]) };
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`rule evaluation, Node ${process.version}, µs per evaluation (timer overhead subtracted)`);
  console.log("rules  p50      p99      scenario");
  for (const row of runRulesBench()) {
    console.log(`${String(row.rules).padEnd(6)} ${row.p50Micros.toFixed(3).padEnd(8)} ${row.p99Micros.toFixed(3).padEnd(8)} ${row.scenario}`);
  }
  console.log(`\nhostile 10 kB paths against 1,000 rules on the request's host (${CATASTROPHIC.length} of them catastrophic for a backtracking engine), ms per evaluation (goal < 1 ms)`);
  console.log("median   max      path");
  for (const row of runHostileBench()) console.log(`${row.medianMillis.toFixed(3).padEnd(8)} ${row.maxMillis.toFixed(3).padEnd(8)} ${row.path}`);
}
