/**
 * `npm run bench:costs`: what single runtime operations cost on workerd, the ones an edge hit is made
 * of (issue 15). workerd's clocks do not move while a request runs (Spectre mitigation), so timing
 * inside a worker says nothing; instead each request of operation X runs X 2,000 times, and the
 * workerd process's own CPU time (/proc, scripts/lib/proc-cpu.ts) over 60 such requests, divided by
 * 120,000, is X's cost, less the same figure for an empty loop. Median of 3 rounds, interleaved.
 *
 * Figures include what each operation leaves for the garbage collector, so they are upper bounds for
 * one operation in a real request, and comparable with each other. Options: `--ports=A-B`.
 */
import { Miniflare } from "miniflare";
import { exitOnHelp } from "./lib/bench-args";
import { portFrom, PortRange } from "./lib/free-port";
import { cpuMillis, descendantPids } from "./lib/proc-cpu";
import { markdownTable, median } from "./lib/stats";

exitOnHelp(process.argv, "npm run bench:costs [-- --ports=A-B]");

const LOOP = 2_000;
const REQUESTS = 60;
const ROUNDS = 3;

/** The operations, each on a request like the edge's: six response fields, a 21-byte body, a browser's request fields. */
const OPERATIONS: Record<string, { label: string; body: string }> = {
  empty: { label: "empty loop (subtracted from every row)", body: "x = i" },
  requestUrl: { label: "`request.url` (getter)", body: "x = req.url" },
  requestHeaders: { label: "`request.headers` (getter)", body: "x = req.headers" },
  requestMethod: { label: "`request.method` (getter)", body: "x = req.method" },
  hasAbsent: { label: "`headers.has(absent name)`", body: 'x = req.headers.has("if-none-match")' },
  getAbsent: { label: "`headers.get(absent name)`", body: 'x = req.headers.get("if-none-match")' },
  keys: { label: "iterate `headers.keys()` (the request's fields)", body: "for (const k of req.headers.keys()) x = k" },
  dateNow: { label: "`Date.now()`", body: "x = Date.now()" },
  urlParse: { label: "`new URL(request.url)`", body: "x = new URL(u)" },
  responseHeaders: { label: "`new Response(bytes, { headers: Headers })` (six fields, as the edge hit)", body: "x = new Response(BODY, INIT_HEADERS)" },
  responseRecord: { label: "`new Response(string, { headers: { one field } })` (as the bare worker)", body: "x = new Response(TEXT, INIT_ONE)" },
  responseBare: { label: "`new Response(bytes)` (no fields)", body: "x = new Response(BODY)" },
  responseFromResponse: { label: "`new Response(bytes, response)` (status and six fields from a Response built once)", body: "x = new Response(BODY, PROTO)" },
  responseThenSet: { label: "`new Response(bytes)`, then its six fields set one by one", body: "x = new Response(BODY); for (const [n, v] of FIELD_LIST) x.headers.set(n, v)" },
  headersCopy: { label: "`new Headers(headers)` (six fields)", body: "x = new Headers(HEADERS)" },
};

const FIELDS = [
  ["age", "0"],
  ["cache-control", "public, max-age=60"],
  ["cache-status", "shardcache-edge;hit;ttl=58"],
  ["content-length", "21"],
  ["content-type", "text/plain; charset=utf-8"],
  ["date", "Thu, 03 Dec 2026 13:50:29 GMT"],
];
const BROWSER_FIELDS = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-encoding": "gzip, deflate, br",
  "accept-language": "en-GB,en;q=0.9",
  "cache-control": "max-age=0",
  cookie: "session=abc; theme=dark",
  "sec-fetch-mode": "navigate",
  "sec-fetch-site": "none",
  "upgrade-insecure-requests": "1",
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
};

function workerScript(): string {
  const cases = Object.entries(OPERATIONS)
    .map(([name, op]) => `  ${JSON.stringify(name)}: (req, u) => { let x; for (let i = 0; i < ${LOOP}; i++) { ${op.body}; } return x; },`)
    .join("\n");
  return `const BODY = new TextEncoder().encode("demo origin: /hot #1\\n");
const TEXT = "demo origin: /ref #1\\n";
const HEADERS = new Headers(${JSON.stringify(FIELDS)});
const INIT_HEADERS = { status: 200, headers: HEADERS };
const FIELD_LIST = ${JSON.stringify(FIELDS)};
const PROTO = new Response(null, INIT_HEADERS);
const INIT_ONE = { headers: { "content-type": "text/plain; charset=utf-8" } };
const CASES = {
${cases}
};
export default {
  fetch(req) {
    const u = req.url;
    CASES[new URL(u).pathname.slice(1)](req, u);
    return new Response("ok");
  },
};
`;
}

async function main(): Promise<void> {
  const ports = PortRange.fromArgs(process.argv);
  const port = await portFrom(ports);
  const mf = new Miniflare({ modules: true, script: workerScript(), compatibilityDate: "2025-01-01", port });
  const base = await mf.ready;
  try {
    const pids = descendantPids("workerd");
    const costs = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(OPERATIONS)) {
        const url = new URL(`/${name}`, base);
        for (let i = 0; i < 3; i++) await (await fetch(url, { headers: BROWSER_FIELDS })).text();
        const before = cpuMillis(pids);
        for (let i = 0; i < REQUESTS; i++) await (await fetch(url, { headers: BROWSER_FIELDS })).text();
        const after = cpuMillis(pids);
        if (before === null || after === null) throw new Error("no /proc CPU figures for workerd on this machine");
        costs.set(name, [...(costs.get(name) ?? []), ((after - before) * 1000) / (REQUESTS * LOOP)]);
      }
    }
    const empty = median(costs.get("empty")!);
    const rows = Object.entries(OPERATIONS).map(([name, op]) => [op.label, name === "empty" ? `${empty.toFixed(2)} µs` : `${Math.max(0, median(costs.get(name)!) - empty).toFixed(2)} µs`]);
    console.log(
      `Runtime operation costs on workerd (\`npm run bench:costs\`; ${LOOP} per request × ${REQUESTS} requests, median of ${ROUNDS} rounds; request fields: a browser's ${Object.keys(BROWSER_FIELDS).length} plus what fetch adds)\n`,
    );
    console.log(markdownTable(["operation", "workerd CPU per operation"], rows));
  } finally {
    await mf.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
