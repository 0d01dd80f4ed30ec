/**
 * An open-loop load generator at a fixed request rate, for latency that a closed loop hides.
 *
 * wrk is closed-loop: each connection sends its next request only after the previous answer, so
 * when the server stalls the generator stalls with it and the requests that should have been sent
 * meanwhile are never measured ("coordinated omission"). Here request i is DUE at i / rate seconds
 * from the start, whatever the server does, and its latency is measured from that due time to the
 * end of its response. A due request waits for a free keep-alive connection (no pipelining); that
 * wait is counted, as a client would feel it. wrk2 does the same; it is not packaged for Debian.
 *
 * Raw sockets and a minimal HTTP/1.1 response reader (Content-Length or chunked) keep the
 * generator's own cost per request small. Its own lateness (due → written) is reported too, so a
 * generator starved of CPU is seen, not mistaken for the server.
 *
 * Bounded: it sends for `durationMs`, stops early (`overloaded`) when the backlog of due requests
 * passes `maxBacklogMs` of traffic (the server cannot sustain the rate), and waits at most `drainMs`
 * for the last answers. Loopback targets only (the caller's URLs).
 */
import { connect, type Socket } from "node:net";
import { percentileSorted } from "./stats";

export interface FixedRateResult {
  rate: number;
  durationMs: number;
  /** Requests that came due while sending (all of them unless overloaded). */
  due: number;
  completed: number;
  /** Transport errors, unanswered requests at the end, and responses with status >= 400. */
  errors: number;
  /** Due requests never sent because the run stopped overloaded. */
  notSent: number;
  /** The backlog passed maxBacklogMs of traffic: the server could not sustain the rate, sending stopped. */
  overloaded: boolean;
  /** Completed requests per second of sending. */
  achievedRps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /**
   * How late the generator itself noticed requests coming due (its timer and event loop), at p99: its
   * own health. Waiting for a free connection is not in it (that is in the latency).
   */
  generatorLagP99Ms: number;
  /** The generator's own CPU (this Node process, user + system) per request answered, over the whole run: it shares the cores with the servers. */
  generatorCpuUsPerRequest: number;
  /** Header fields of the first response (lower-case names), to check what answered. */
  firstHeaders: Record<string, string>;
}

/** One parsed HTTP/1.1 response head. */
export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
  /** Bytes of the head, through the blank line. */
  headBytes: number;
}

/** Parses a response head at the start of `buf`, or null when it is not complete yet. */
export function parseResponseHead(buf: Buffer): ResponseHead | null {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = buf.toString("latin1", 0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
  }
  return { status, headers, headBytes: end + 4 };
}

/**
 * Where the body that starts at `from` ends in `buf` (the offset after it), or null when it has not
 * all arrived. Content-Length or chunked framing (RFC 9112 §6, §7.1); trailers are skipped.
 */
export function bodyEnd(buf: Buffer, from: number, head: ResponseHead): number | null {
  if (/\bchunked\b/i.test(head.headers["transfer-encoding"] ?? "")) {
    let at = from;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return null;
      const size = Number.parseInt(buf.toString("latin1", at, lineEnd).split(";")[0]!.trim(), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (size === 0) {
        // The last chunk, then trailer fields (usually none), then an empty line.
        const trailersEnd = buf.indexOf("\r\n\r\n", lineEnd);
        return trailersEnd < 0 ? null : trailersEnd + 4;
      }
      const next = lineEnd + 2 + size + 2;
      if (buf.length < next) return null;
      at = next;
    }
  }
  const length = head.status === 204 || head.status === 304 ? 0 : Number(head.headers["content-length"] ?? 0);
  return buf.length >= from + length ? from + length : null;
}

/** Framing of a response after the first: status, Content-Length or chunked, read with two regular expressions, no header object. */
export function quickHead(buf: Buffer): ResponseHead | null {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const text = buf.toString("latin1", 0, end);
  const status = Number(text.slice(9, 12));
  if (!text.startsWith("HTTP/1.") || !Number.isInteger(status)) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(text.slice(0, 40))}`);
  const headers: Record<string, string> = {};
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(text)) headers["transfer-encoding"] = "chunked";
  else headers["content-length"] = /\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? "0";
  return { status, headers, headBytes: end + 4 };
}

interface Connection {
  socket: Socket;
  /** Due time (ms since start) of the request on the wire, or null when idle. */
  current: number | null;
  buffer: Buffer;
  alive: boolean;
}

/** One target of an interleaved run, while it runs. */
interface TargetRun {
  index: number;
  requestBytes: Buffer;
  connections: Connection[];
  /** Due times waiting for a free connection. */
  backlog: number[];
  backlogHead: number;
  latencies: number[];
  lags: number[];
  completed: number;
  errors: number;
  due: number;
  unsent: number;
  overloaded: boolean;
  /** Milliseconds of the run this target had the stream for. */
  activeMs: number;
  firstHeaders: Record<string, string> | null;
}

export interface InterleavedOptions {
  urls: readonly string[];
  rate: number;
  /**
   * The stream goes to one target for `sliceMs`, then to the next, forwards then backwards (A B C
   * C B A A B C …), `slices` times per target. Short alternating slices put the machine's drift (other
   * processes, a GC of the generator) on every target alike, so their percentiles compare; pooled
   * over the slices, each target's percentiles come from rate × sliceMs × slices samples.
   */
  sliceMs: number;
  slices: number;
  /** Keep-alive connections per target. */
  connections: number;
  maxBacklogMs?: number;
  drainMs?: number;
  /** Called when the stream moves to target `index` (-1: sending ended), e.g. to read CPU counters. */
  onSlice?: (index: number) => void;
  /** Told every answered request (its target, due time and latency, ms), e.g. to see when the slow ones came. */
  onSample?: (index: number, dueMs: number, latencyMs: number) => void;
}

/** Which target slice `slice` (0, 1, …) of an interleaved run goes to: forwards, then backwards. */
export function sliceTarget(slice: number, targets: number): number {
  const round = Math.floor(slice / targets);
  const at = slice % targets;
  return round % 2 === 0 ? at : targets - 1 - at;
}

export async function fixedRate(opts: { url: string; rate: number; durationMs: number; connections: number; maxBacklogMs?: number; drainMs?: number }): Promise<FixedRateResult> {
  const [result] = await fixedRateInterleaved({ ...opts, urls: [opts.url], sliceMs: opts.durationMs, slices: 1 });
  return result!;
}

/**
 * One open-loop stream at `rate`, its requests going to each target in turn (see `sliceMs`); a
 * result per target. Each target has its own connections and its own backlog, so one target's
 * stall delays only its own requests. The run stops, that target marked overloaded, as soon as any
 * target's backlog passes `maxBacklogMs` of traffic.
 */
export async function fixedRateInterleaved(opts: InterleavedOptions): Promise<FixedRateResult[]> {
  const parsed = opts.urls.map((u) => new URL(u));
  if (parsed.some((u) => u.protocol !== "http:")) throw new Error("fixedRate speaks plain HTTP/1.1 only");
  const slices = opts.slices * opts.urls.length;
  const total = Math.floor((opts.rate * opts.sliceMs * slices) / 1000);
  const maxBacklog = Math.max(1, Math.floor((opts.rate * (opts.maxBacklogMs ?? 1_000)) / 1000));
  let started = 0;
  let onIdle: (() => void) | null = null;
  const idle = () => runs.every((t) => t.connections.every((c) => c.current === null || !c.alive));

  const send = (t: TargetRun, c: Connection, dueMs: number) => {
    c.current = dueMs;
    c.socket.write(t.requestBytes);
  };
  const dispatch = (t: TargetRun, c: Connection) => {
    if (t.backlogHead < t.backlog.length) send(t, c, t.backlog[t.backlogHead++]!);
    else if (onIdle !== null && idle()) onIdle();
  };
  const onData = (t: TargetRun, c: Connection, chunk: Buffer) => {
    c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk]);
    for (;;) {
      const head = t.firstHeaders === null ? parseResponseHead(c.buffer) : quickHead(c.buffer);
      if (head === null) return;
      const end = bodyEnd(c.buffer, head.headBytes, head);
      if (end === null) return;
      c.buffer = c.buffer.subarray(end);
      if (c.current !== null) {
        const latency = performance.now() - started - c.current;
        t.latencies.push(latency);
        t.completed++;
        opts.onSample?.(t.index, c.current, latency);
        c.current = null;
      }
      if (head.status >= 400) t.errors++;
      t.firstHeaders ??= head.headers;
      dispatch(t, c);
    }
  };
  const open = (t: TargetRun, url: URL) =>
    new Promise<Connection>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true });
      const c: Connection = { socket, current: null, buffer: Buffer.alloc(0), alive: true };
      socket.once("connect", () => resolve(c));
      socket.on("data", (chunk: Buffer) => {
        try {
          onData(t, c, chunk);
        } catch {
          t.errors++;
          socket.destroy();
        }
      });
      const lost = () => {
        if (!c.alive) return;
        c.alive = false;
        if (c.current !== null) t.errors++;
        c.current = null;
        if (onIdle !== null && idle()) onIdle();
      };
      socket.on("error", (error) => (started === 0 ? reject(error) : lost()));
      socket.on("close", lost);
    });
  const runs: TargetRun[] = parsed.map((url, index) => ({
    index,
    requestBytes: Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`, "latin1"),
    connections: [],
    backlog: [],
    backlogHead: 0,
    latencies: [],
    lags: [],
    completed: 0,
    errors: 0,
    due: 0,
    unsent: 0,
    overloaded: false,
    activeMs: 0,
    firstHeaders: null,
  }));
  for (const [i, t] of runs.entries()) t.connections = await Promise.all(Array.from({ length: opts.connections }, () => open(t, parsed[i]!)));

  const cpuBefore = process.cpuUsage();
  started = performance.now();
  let dueCount = 0;
  let slice = -1;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((elapsed * opts.rate) / 1000));
      for (; dueCount < due; dueCount++) {
        const dueMs = (dueCount * 1000) / opts.rate;
        const s = Math.min(slices - 1, Math.floor(dueMs / opts.sliceMs));
        if (s !== slice) {
          slice = s;
          opts.onSlice?.(sliceTarget(s, runs.length));
        }
        const t = runs[sliceTarget(s, runs.length)]!;
        t.lags.push(elapsed - dueMs);
        t.due++;
        t.backlog.push(dueMs);
      }
      for (const t of runs) for (const c of t.connections) if (c.alive && c.current === null && t.backlogHead < t.backlog.length) send(t, c, t.backlog[t.backlogHead++]!);
      const overloaded = runs.filter((t) => t.backlog.length - t.backlogHead > maxBacklog);
      for (const t of overloaded) t.overloaded = true;
      if (overloaded.length > 0) resolve();
      else if (dueCount >= total || runs.every((t) => t.connections.every((c) => !c.alive))) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendingMs = performance.now() - started;
  opts.onSlice?.(-1);
  const generatorCpu = process.cpuUsage(cpuBefore);
  // Each target's share of the sending time: whole slices, the last one cut where sending ended.
  for (let s = 0; s <= Math.max(0, slice); s++) runs[sliceTarget(s, runs.length)]!.activeMs += Math.min(opts.sliceMs, sendingMs - s * opts.sliceMs);
  // An overloaded run sends no more; otherwise requests still queued for a connection go out as
  // connections free up, and their wait is in their latency (dropping them would hide the tail).
  if (runs.some((t) => t.overloaded)) {
    for (const t of runs) {
      t.unsent = t.backlog.length - t.backlogHead;
      t.backlogHead = t.backlog.length;
    }
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.drainMs ?? 5_000);
    onIdle = () => {
      clearTimeout(timer);
      resolve();
    };
    if (idle()) onIdle();
  });
  const requestsSent = runs.reduce((sum, t) => sum + t.completed, 0);
  return runs.map((t) => {
    const unanswered = t.connections.filter((c) => c.current !== null).length;
    for (const c of t.connections) c.socket.destroy();
    const sorted = Float64Array.from(t.latencies).sort();
    const sortedLags = Float64Array.from(t.lags).sort();
    return {
      rate: opts.rate,
      durationMs: Math.round(t.activeMs),
      due: t.due,
      completed: t.completed,
      errors: t.errors + unanswered,
      notSent: t.unsent,
      overloaded: t.overloaded,
      achievedRps: t.activeMs > 0 ? (t.completed / t.activeMs) * 1000 : 0,
      p50Ms: percentileSorted(sorted, 50),
      p99Ms: percentileSorted(sorted, 99),
      p999Ms: percentileSorted(sorted, 99.9),
      maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
      generatorLagP99Ms: percentileSorted(sortedLags, 99),
      generatorCpuUsPerRequest: requestsSent === 0 ? Number.NaN : (generatorCpu.user + generatorCpu.system) / requestsSent,
      firstHeaders: t.firstHeaders ?? {},
    };
  });
}
