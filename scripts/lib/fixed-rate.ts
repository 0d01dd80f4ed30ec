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

interface Connection {
  socket: Socket;
  /** Due time (ms since start) of the request on the wire, or null when idle. */
  current: number | null;
  buffer: Buffer;
  alive: boolean;
}

export async function fixedRate(opts: { url: string; rate: number; durationMs: number; connections: number; maxBacklogMs?: number; drainMs?: number }): Promise<FixedRateResult> {
  const url = new URL(opts.url);
  if (url.protocol !== "http:") throw new Error("fixedRate speaks plain HTTP/1.1 only");
  const requestBytes = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`, "latin1");
  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const maxBacklog = Math.max(1, Math.floor((opts.rate * (opts.maxBacklogMs ?? 1_000)) / 1000));
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  let completed = 0;
  let errors = 0;
  let dueCount = 0;
  let overloaded = false;
  let firstHeaders: Record<string, string> | null = null;
  const backlog: number[] = [];
  let backlogHead = 0;
  let started = 0;
  let onIdle: (() => void) | null = null;

  const send = (c: Connection, dueMs: number) => {
    c.current = dueMs;
    c.socket.write(requestBytes);
  };
  const dispatch = (c: Connection) => {
    if (backlogHead < backlog.length) send(c, backlog[backlogHead++]!);
    else if (onIdle !== null && connections.every((x) => x.current === null || !x.alive)) onIdle();
  };
  const onData = (c: Connection, chunk: Buffer) => {
    c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk]);
    for (;;) {
      const head = parseResponseHead(c.buffer);
      if (head === null) return;
      const end = bodyEnd(c.buffer, head.headBytes, head);
      if (end === null) return;
      c.buffer = c.buffer.subarray(end);
      if (c.current !== null) {
        latencies[completed++] = performance.now() - started - c.current;
        c.current = null;
      }
      if (head.status >= 400) errors++;
      firstHeaders ??= head.headers;
      dispatch(c);
    }
  };
  const open = () =>
    new Promise<Connection>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true });
      const c: Connection = { socket, current: null, buffer: Buffer.alloc(0), alive: true };
      socket.once("connect", () => resolve(c));
      socket.on("data", (chunk: Buffer) => {
        try {
          onData(c, chunk);
        } catch {
          errors++;
          socket.destroy();
        }
      });
      const lost = () => {
        if (!c.alive) return;
        c.alive = false;
        if (c.current !== null) errors++;
        c.current = null;
        if (onIdle !== null && connections.every((x) => x.current === null || !x.alive)) onIdle();
      };
      socket.on("error", (error) => (started === 0 ? reject(error) : lost()));
      socket.on("close", lost);
    });
  const connections: Connection[] = await Promise.all(Array.from({ length: opts.connections }, open));

  started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((elapsed * opts.rate) / 1000));
      for (; dueCount < due; dueCount++) {
        const dueMs = (dueCount * 1000) / opts.rate;
        lags[dueCount] = elapsed - dueMs;
        backlog.push(dueMs);
      }
      for (const c of connections) if (c.alive && c.current === null && backlogHead < backlog.length) send(c, backlog[backlogHead++]!);
      if (backlog.length - backlogHead > maxBacklog) {
        overloaded = true;
        resolve();
      } else if (dueCount >= total || connections.every((c) => !c.alive)) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendingMs = performance.now() - started;
  // An overloaded run sends no more; otherwise requests still queued for a connection go out as
  // connections free up, and their wait is in their latency (dropping them would hide the tail).
  const unsent = overloaded ? backlog.length - backlogHead : 0;
  if (overloaded) backlogHead = backlog.length;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.drainMs ?? 5_000);
    onIdle = () => {
      clearTimeout(timer);
      resolve();
    };
    if (connections.every((c) => c.current === null || !c.alive)) onIdle();
  });
  const unanswered = connections.filter((c) => c.current !== null).length;
  for (const c of connections) c.socket.destroy();
  errors += unanswered;
  const sorted = latencies.subarray(0, completed).sort();
  const sortedLags = lags.subarray(0, dueCount).sort();
  return {
    rate: opts.rate,
    durationMs: Math.round(sendingMs),
    due: dueCount,
    completed,
    errors,
    notSent: unsent,
    overloaded,
    achievedRps: (completed / sendingMs) * 1000,
    p50Ms: percentileSorted(sorted, 50),
    p99Ms: percentileSorted(sorted, 99),
    p999Ms: percentileSorted(sorted, 99.9),
    maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    generatorLagP99Ms: percentileSorted(sortedLags, 99),
    firstHeaders: firstHeaders ?? {},
  };
}
