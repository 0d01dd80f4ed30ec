/**
 * Load generators for the benchmarks, loopback only and always bounded in time and count:
 * - `closedLoop`: N concurrent keep-alive loops for a fixed duration (each waits for its response).
 * - `runWrk`: the same through `wrk` when it is installed (far cheaper per request than Node).
 * - `openLoop`: a fixed request rate for a fixed duration (latency counted from the scheduled send
 *   time, so a slow server cannot hide its queueing), with a bound on requests in flight.
 * - `burst`: N requests sent at once on N connections (thundering herd).
 */
import { spawn } from "node:child_process";
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { commandExists, percentileSorted } from "./stats";

export interface ThroughputResult {
  tool: "wrk" | "node";
  requests: number;
  /** Transport errors plus responses with status >= 400. */
  errors: number;
  durationMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
}

/** One GET over `agent`; resolves when the body has been read (rejects on transport errors or after timeoutMs). */
export function get(url: string, agent: Agent, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, headers, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** N concurrent loops, each sending its next request when the previous one has completed, for `durationMs`. */
export async function closedLoop(opts: { url: string; concurrency: number; durationMs: number; headers?: Record<string, string> }): Promise<ThroughputResult> {
  const agent = keepAliveAgent(opts.concurrency);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const reply = await get(opts.url, agent, 10_000, opts.headers);
        if (reply.status >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const durationMs = performance.now() - started;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return { tool: "node", requests: latencies.length, errors, durationMs, rps: (latencies.length / durationMs) * 1000, p50Ms: percentileSorted(sorted, 50), p99Ms: percentileSorted(sorted, 99) };
}

export const wrkAvailable = (): boolean => commandExists("wrk");

function wrkDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (m === null) return Number.NaN;
  const value = Number(m[1]);
  return m[2] === "us" ? value / 1000 : m[2] === "ms" ? value : m[2] === "s" ? value * 1000 : value * 60_000;
}

/** Parses wrk's `--latency` output. */
export function parseWrk(output: string, durationMs: number): ThroughputResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(output)?.[1];
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  if (!Number.isFinite(rps)) throw new Error(`could not parse wrk output:\n${output}`);
  return { tool: "wrk", requests, errors: non2xx + socketErrors, durationMs, rps, p50Ms: p50 === undefined ? Number.NaN : wrkDurationMs(p50), p99Ms: p99 === undefined ? Number.NaN : wrkDurationMs(p99) };
}

/** Runs wrk for `durationMs` (whole seconds, at least 1); the process is killed by PID if it overruns. */
export function runWrk(opts: { url: string; threads: number; connections: number; durationMs: number; headers?: Record<string, string> }): Promise<ThroughputResult> {
  const seconds = Math.max(1, Math.round(opts.durationMs / 1000));
  const fields = Object.entries(opts.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const child = spawn("wrk", [`-t${opts.threads}`, `-c${opts.connections}`, `-d${seconds}s`, "--timeout", "10s", "--latency", ...fields, opts.url], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const guard = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), seconds * 1000 + 15_000);
  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.on("exit", () => {
      clearTimeout(guard);
      try {
        resolve(parseWrk(out, seconds * 1000));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Closed-loop throughput with wrk when installed (2 threads, `connections`), else the Node loop with as many loops; `headers` on every request. */
export function throughput(url: string, durationMs: number, connections = 32, useWrk = wrkAvailable(), headers?: Record<string, string>): Promise<ThroughputResult> {
  return useWrk ? runWrk({ url, threads: 2, connections, durationMs, headers }) : closedLoop({ url, concurrency: connections, durationMs, headers });
}

export interface OpenLoopSample {
  /** Milliseconds since the run started, at which this request was scheduled. */
  scheduledMs: number;
  latencyMs: number;
  status: number;
  tag: number;
  headers: IncomingHttpHeaders | null;
}

export interface OpenLoopResult {
  samples: OpenLoopSample[];
  /** Requests not sent because `maxInFlight` were outstanding (the server fell behind). */
  dropped: number;
  errors: number;
  durationMs: number;
}

/**
 * Sends `rate` requests per second for `durationMs` (a scheduler tick every 5 ms sends whatever is
 * due), never more than `maxInFlight` at once; `next()` names the URL and a tag for each request.
 * Waits at most `drainMs` after the last send for outstanding replies.
 */
export async function openLoop(opts: { rate: number; durationMs: number; maxInFlight: number; next: () => { url: string; tag: number }; drainMs?: number; headers?: Record<string, string> }): Promise<OpenLoopResult> {
  const agent = keepAliveAgent(opts.maxInFlight);
  const samples: OpenLoopSample[] = [];
  let dropped = 0;
  let errors = 0;
  let inFlight = 0;
  let sent = 0;
  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  const fire = (scheduledMs: number) => {
    const { url, tag } = opts.next();
    if (inFlight >= opts.maxInFlight) {
      dropped++;
      return;
    }
    inFlight++;
    const p: Promise<void> = get(url, agent, 15_000, opts.headers)
      .then((reply) => {
        if (reply.status >= 400) errors++;
        samples.push({ scheduledMs, latencyMs: performance.now() - started - scheduledMs, status: reply.status, tag, headers: reply.headers });
      })
      .catch(() => {
        errors++;
        samples.push({ scheduledMs, latencyMs: performance.now() - started - scheduledMs, status: 0, tag, headers: null });
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((elapsed * opts.rate) / 1000));
      while (sent < due) fire((sent++ * 1000) / opts.rate);
      if (sent >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const drainDeadline = new Promise<void>((resolve) => setTimeout(resolve, opts.drainMs ?? 15_000).unref());
  await Promise.race([Promise.all([...pending]), drainDeadline]);
  agent.destroy();
  return { samples, dropped, errors, durationMs: performance.now() - started };
}

/** `count` GETs of `url` at once, each on its own connection; resolves when all have finished (or timed out). */
export async function burst(url: string, count: number, timeoutMs = 30_000, requestHeaders: Record<string, string> = {}): Promise<{ statuses: Map<number, number>; headers: IncomingHttpHeaders[]; maxLatencyMs: number }> {
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const statuses = new Map<number, number>();
  const headers: IncomingHttpHeaders[] = [];
  const t0 = performance.now();
  let maxLatencyMs = 0;
  await Promise.all(
    Array.from({ length: count }, async () => {
      let status = 0;
      try {
        const reply = await get(url, agent, timeoutMs, requestHeaders);
        status = reply.status;
        headers.push(reply.headers);
      } catch {
        status = 0;
      }
      maxLatencyMs = Math.max(maxLatencyMs, performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
  );
  agent.destroy();
  return { statuses, headers, maxLatencyMs };
}

/** Whether a Cache-Status field says some cache answered from storage (`; hit`). */
export function isHit(cacheStatus: string | string[] | undefined): boolean {
  const text = Array.isArray(cacheStatus) ? cacheStatus.join(", ") : (cacheStatus ?? "");
  return /;\s*hit(\s*[;,]|\s*$)/.test(text);
}
