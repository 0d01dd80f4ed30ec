/**
 * The bundled demo origin: a small Node HTTP server whose responses are shaped by query parameters,
 * and which counts the requests it receives. `npm start`, the workers tests and the benchmarks all
 * put it behind the cache, so "how many times did the origin see this?" is always answerable.
 *
 * Query parameters:
 *   delay=MS        wait before sending headers          size=BYTES   body length (default: a short text)
 *   cc=VALUE        Cache-Control (default "public, max-age=60"; cc= with no value sends none)
 *   status=N        response status (default 200)        etag=TAG     ETag (answers If-None-Match with 304)
 *   lm=HTTP-DATE    Last-Modified                         vary=NAMES   Vary
 *   h-NAME=VALUE    any other response header            chunks=N&chunkDelay=MS  stream the body in N chunks
 *   fail=reset      destroy the connection without a response
 *   part=LEN        answer 206: the k-th request for this path+query gets the k-th LEN-byte part (cycling) of a
 *                   `size`-byte body of repeating a–z, with Content-Range (an origin that sends parts on its own)
 *   cl-self=1       Content-Location: this request's own path and query (POST responses a GET may reuse)
 *   early=1         send a 103 Early Hints (Link: </early.css>; rel=preload) before the final response
 *   A repeated h-NAME parameter sends one field line per value (e.g. two Age lines).
 * Any path under /__echo answers JSON {method, url, headers, body} describing the request it received
 *   (Cache-Control from `cc` as above, default "no-store"), so tests can see exactly what reached the origin.
 * Control endpoints: GET /__stats → {"requests": {"/path?query": n}, "total": n}; POST /__reset zeroes them;
 *   POST /__fail?mode=MODE[&prefix=/path] makes every request (or those whose path starts with prefix,
 *   standing for one node of a pool) fail that way, for health checks, grace and the fault suite:
 *   reset (connection destroyed, no response), 503, 500 (a CACHEABLE 500: max-age=600), hang (no
 *   headers for 60 s), stall (headers and a first chunk, then silence for 60 s), reset-body (headers
 *   and half the body, then the connection is destroyed), cut (see below, not storable), hold (the
 *   request waits, at most 60 s, until the prefix's mode changes, and is then answered as usual: a test
 *   sees what the cache does while its origin request is unanswered, with no timing); off clears it;
 * A request with `X-Demo-Clock-Offset: MS` (whole milliseconds ≥ 0; anything else is a 400) is answered with a
 *   Date MS ahead of the wall clock, so a test's moved clock and the origin's Date agree (RFC 9111 §4.2.3:
 *   apparent age = response time − Date). It travels with each request, not as origin state, because test files
 *   run in parallel, each with its own clock (test/helpers/setup-workers.ts adds it); the field is removed
 *   before anything else reads the request, so echoes never show it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { CLOCK_OFFSET_FIELD } from "./lib/demo-clock";

export interface DemoOrigin {
  url: string;
  port: number;
  stats(): { requests: Record<string, number>; total: number };
  reset(): void;
  close(): Promise<void>;
}

/** `cut`: headers promising 1000 bytes, then 10 bytes and a dropped connection (a body cut short, no-store). */
const FAIL_MODES = ["reset", "503", "cut", "500", "hang", "stall", "reset-body", "hold"] as const;
type FailMode = "off" | (typeof FAIL_MODES)[number];
/** How long hang, stall and hold keep a request before giving up on it (bounded, so tests always end). */
const HOLD_MS = 60_000;

interface OriginState {
  requests: Map<string, number>;
  total: number;
  serial: number;
  /** Failure switches by path prefix ("" = every request). */
  failModes: Map<string, FailMode>;
  /** Webhook sinks: bodies POSTed to /__hook/<name>, readable with GET /__hook/<name> (event handler tests). */
  hooks: Map<string, unknown[]>;
  /** Requests in `hold` mode, each released once its path's mode is no longer hold. */
  held: Set<{ pathname: string; release: () => void }>;
}

function failModeFor(state: OriginState, pathname: string): FailMode {
  let mode: FailMode = "off";
  let longest = -1;
  for (const [prefix, m] of state.failModes) if (pathname.startsWith(prefix) && prefix.length > longest) [mode, longest] = [m, prefix.length];
  return mode;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function statsOf(state: OriginState) {
  return { requests: Object.fromEntries(state.requests), total: state.total };
}

function handleControl(req: IncomingMessage, res: ServerResponse, url: URL, state: OriginState, requestBody: Buffer): boolean {
  if (url.pathname.startsWith("/__hook/")) {
    const name = url.pathname.slice("/__hook/".length);
    if (req.method === "POST") {
      let body: unknown;
      try {
        body = JSON.parse(requestBody.toString("utf8"));
      } catch {
        body = requestBody.toString("utf8");
      }
      // ?fail=1 answers 503 without keeping the body, so delivery retries can be observed.
      if (url.searchParams.get("fail") === "1") res.writeHead(503).end();
      else {
        state.hooks.set(name, [...(state.hooks.get(name) ?? []), body]);
        res.writeHead(204).end();
      }
      return true;
    }
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(state.hooks.get(name) ?? []));
    return true;
  }
  if (url.pathname === "/__stats") {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(statsOf(state)));
    return true;
  }
  if (url.pathname === "/__reset" && req.method === "POST") {
    state.requests.clear();
    state.total = 0;
    res.writeHead(204, { "cache-control": "no-store" }).end();
    return true;
  }
  if (url.pathname === "/__fail" && req.method === "POST") {
    const mode = url.searchParams.get("mode");
    const prefix = url.searchParams.get("prefix") ?? "";
    if ((FAIL_MODES as readonly string[]).includes(mode ?? "")) state.failModes.set(prefix, mode as FailMode);
    else state.failModes.delete(prefix);
    for (const entry of [...state.held]) if (failModeFor(state, entry.pathname) !== "hold") entry.release();
    res.writeHead(204, { "cache-control": "no-store" }).end();
    return true;
  }
  return false;
}

/** Keeps the connection open without sending anything more, then destroys it (never a clean end). */
function holdThenDestroy(req: IncomingMessage, res: ServerResponse): void {
  const timer = setTimeout(() => req.socket.destroy(), HOLD_MS);
  res.on("close", () => clearTimeout(timer));
}

/** Waits until `pathname`'s mode is no longer hold (POST /__fail), or HOLD_MS have passed. */
function heldUntilReleased(state: OriginState, pathname: string): Promise<void> {
  return new Promise((resolve) => {
    const entry = {
      pathname,
      release: () => {
        clearTimeout(timer);
        state.held.delete(entry);
        resolve();
      },
    };
    const timer = setTimeout(entry.release, HOLD_MS).unref();
    state.held.add(entry);
  });
}

/** Body text for one response: names the path and the response's serial number, padded to `size`. */
function bodyFor(url: URL, serial: number, size: number | null): Buffer {
  const text = `demo origin: ${url.pathname}${url.search} #${serial}\n`;
  if (size === null) return Buffer.from(text);
  const out = Buffer.alloc(size, ".");
  out.write(text.slice(0, size));
  return out;
}

function responseHeaders(url: URL, bodyBytes: number, streamed: boolean, clockOffsetMs: number): Record<string, string | string[]> {
  const q = url.searchParams;
  const headers: Record<string, string | string[]> = { "content-type": "text/plain; charset=utf-8", date: new Date(Date.now() + clockOffsetMs).toUTCString() };
  const cc = q.has("cc") ? q.get("cc")! : "public, max-age=60";
  if (cc !== "") headers["cache-control"] = cc;
  if (q.has("etag")) headers.etag = q.get("etag")!;
  if (q.has("lm")) headers["last-modified"] = q.get("lm")!;
  if (q.has("vary")) headers.vary = q.get("vary")!;
  if (q.get("cl-self") === "1") headers["content-location"] = url.pathname + url.search;
  for (const name of new Set(q.keys())) {
    if (!name.startsWith("h-")) continue;
    const values = q.getAll(name);
    headers[name.slice(2).toLowerCase()] = values.length === 1 ? values[0]! : values;
  }
  if (!streamed) headers["content-length"] = String(bodyBytes);
  return headers;
}

async function writeBody(res: ServerResponse, body: Buffer, chunks: number, chunkDelayMs: number): Promise<void> {
  if (chunks <= 1) return void res.end(body);
  const step = Math.ceil(body.length / chunks);
  for (let offset = 0; offset < body.length; offset += step) {
    res.write(body.subarray(offset, offset + step));
    if (chunkDelayMs > 0) await sleep(chunkDelayMs);
  }
  res.end();
}

function echo(req: IncomingMessage, res: ServerResponse, url: URL, requestBody: Buffer): void {
  const body = JSON.stringify({ method: req.method, url: url.pathname + url.search, headers: req.headers, body: requestBody.toString("utf8") });
  const cc = url.searchParams.get("cc") ?? "no-store";
  res.writeHead(200, { "content-type": "application/json", ...(cc === "" ? {} : { "cache-control": cc }) });
  res.end(body);
}

/** The Date offset `req` asks for (0 without the field), taken out of its headers; null when the field is malformed. */
function takeClockOffset(req: IncomingMessage): number | null {
  const field = req.headers[CLOCK_OFFSET_FIELD];
  delete req.headers[CLOCK_OFFSET_FIELD];
  if (field === undefined) return 0;
  const offset = typeof field === "string" && /^\d+$/.test(field) ? Number(field) : Number.NaN;
  return Number.isSafeInteger(offset) ? offset : null;
}

async function handle(req: IncomingMessage, res: ServerResponse, requestBody: Buffer, state: OriginState, clockOffsetMs: number): Promise<void> {
  const url = new URL(req.url ?? "/", "http://origin.local");
  if (handleControl(req, res, url, state, requestBody)) return;
  const counted = url.pathname + url.search;
  state.requests.set(counted, (state.requests.get(counted) ?? 0) + 1);
  state.total += 1;
  const serial = ++state.serial;
  const q = url.searchParams;
  if (url.pathname.startsWith("/__echo")) return echo(req, res, url, requestBody);

  const failMode = failModeFor(state, url.pathname);
  if (failMode === "hold") await heldUntilReleased(state, url.pathname);
  if (failMode === "reset" || q.get("fail") === "reset") return void req.socket.destroy();
  if (failMode === "503") return void res.writeHead(503, { "retry-after": "1" }).end("origin failing on purpose\n");
  if (failMode === "cut") {
    res.writeHead(200, { "content-type": "text/plain", "content-length": "1000", "cache-control": "no-store" });
    return void res.write("0123456789", () => setTimeout(() => req.socket.destroy(), 20));
  }
  if (failMode === "500") return void res.writeHead(500, { "cache-control": "public, max-age=600", "content-type": "text/plain" }).end("origin error, cacheable on purpose\n");
  if (failMode === "hang") return holdThenDestroy(req, res);
  if (failMode === "stall" || failMode === "reset-body") {
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "public, max-age=60", "content-length": "2000" });
    res.write(Buffer.alloc(1000, "s"));
    if (failMode === "reset-body") return void setTimeout(() => req.socket.destroy(), 50);
    return holdThenDestroy(req, res);
  }
  const delayMs = Number(q.get("delay") ?? 0);
  if (delayMs > 0) await sleep(Math.min(delayMs, 60_000));

  const etag = q.get("etag");
  if (etag !== null && req.headers["if-none-match"] === etag) {
    const headers = responseHeaders(url, 0, true, clockOffsetMs);
    return void res.writeHead(304, headers).end();
  }
  const sizeParam = q.get("size");
  const body = bodyFor(url, serial, sizeParam === null ? null : Math.max(0, Number(sizeParam) | 0));
  const chunks = Math.max(1, Number(q.get("chunks") ?? 1) | 0);
  const partLength = Number(q.get("part") ?? 0) | 0;
  if (partLength > 0) return sendPart(res, url, body.length, partLength, state.requests.get(counted) ?? 1, clockOffsetMs);
  const status = Number(q.get("status") ?? 200);
  if (q.get("early") === "1") res.writeEarlyHints({ link: "</early.css>; rel=preload" });
  res.writeHead(status, responseHeaders(url, body.length, chunks > 1, clockOffsetMs));
  if (req.method === "HEAD") return void res.end();
  await writeBody(res, body, chunks, Number(q.get("chunkDelay") ?? 0));
}

/** The k-th part (1-based, cycling) of a body of repeating a–z, as a 206 with Content-Range. */
function sendPart(res: ServerResponse, url: URL, size: number, partLength: number, k: number, clockOffsetMs: number): void {
  const whole = Buffer.alloc(size);
  for (let i = 0; i < size; i++) whole[i] = 97 + (i % 26);
  const parts = Math.max(1, Math.ceil(size / partLength));
  const start = ((k - 1) % parts) * partLength;
  const end = Math.min(size, start + partLength) - 1;
  const headers = responseHeaders(url, end - start + 1, false, clockOffsetMs);
  headers["content-range"] = `bytes ${start}-${end}/${size}`;
  res.writeHead(206, headers);
  res.end(whole.subarray(start, end + 1));
}

/**
 * A minimal WebSocket endpoint (RFC 6455) for the pass-through tests: completes the handshake,
 * greets with one text frame naming the path and the request's X-Probe field, then echoes every short
 * text frame it receives. Enough to prove the upgrade reached the origin untouched; not a
 * general implementation (no fragmentation, payloads under 126 bytes).
 */
function acceptWebSocket(req: IncomingMessage, socket: Socket, state: OriginState): void {
  const key = req.headers["sec-websocket-key"];
  const path = req.url ?? "/";
  state.requests.set(path, (state.requests.get(path) ?? 0) + 1);
  if (typeof key !== "string" || req.headers.upgrade?.toLowerCase() !== "websocket") return void socket.destroy();
  if (path.includes("refuse=1")) return void socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 8\r\ncache-control: max-age=60\r\n\r\nrefused\n");
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const frame = (text: string) => {
    const payload = Buffer.from(text.slice(0, 125));
    return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  };
  socket.write(frame(`hello ${path} ${req.headers["x-probe"] ?? "-"}`));
  socket.on("data", (data: Buffer) => {
    if (data.length < 6 || (data[0]! & 0x0f) !== 1) return void socket.end(); // only short masked text frames; anything else closes
    const length = data[1]! & 0x7f;
    const mask = data.subarray(2, 6);
    const payload = Buffer.from(data.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
    socket.write(frame(`echo ${payload.toString("utf8")}`));
  });
  socket.on("error", () => socket.destroy());
}

/** Start the demo origin on loopback. Port 0 picks a free port. */
export async function startDemoOrigin(port = 0, host = "127.0.0.1"): Promise<DemoOrigin> {
  const state: OriginState = { requests: new Map(), total: 0, serial: 0, failModes: new Map(), hooks: new Map(), held: new Set() };
  const server: Server = createServer((req, res) => {
    // Read any request body first so pass-through uploads complete (and can be echoed) before we answer.
    const chunks: Buffer[] = [];
    req.on("error", () => res.destroy());
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const clockOffsetMs = takeClockOffset(req);
      if (clockOffsetMs === null) return void res.writeHead(400, { "cache-control": "no-store" }).end(`${CLOCK_OFFSET_FIELD}: whole milliseconds >= 0\n`);
      void handle(req, res, Buffer.concat(chunks), state, clockOffsetMs).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 5_000;
  const upgraded = new Set<Socket>();
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    upgraded.add(socket);
    socket.on("close", () => upgraded.delete(socket));
    acceptWebSocket(req, socket, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    stats: () => statsOf(state),
    reset: () => {
      state.requests.clear();
      state.total = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const origin = await startDemoOrigin(Number(process.env.ORIGIN_PORT ?? 8788));
  console.log(`demo origin listening on ${origin.url}`);
  const stop = () => void origin.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
