/**
 * One active probe of one node: an HTTP request (status and optional body check) or a bare TCP
 * connect through `cloudflare:sockets`. Results are values; nothing here throws.
 *
 * What each bound covers, as the runtime allows it:
 * - HTTP: Workers `fetch()` takes no connect timeout (RequestInit has only `signal`), so the
 *   monitor's `timeoutMs` bounds connect + request + headers + body together.
 * - TCP: `connect()` returns a Socket whose `opened` promise settles when the TCP handshake does;
 *   racing it against a timer bounds the connect alone, by the pool's `connectTimeoutMs` (capped by
 *   the monitor's `timeoutMs`). The socket is closed at once either way.
 */
import { connect } from "cloudflare:sockets";
import { tcpConnectBoundMs, tcpTarget, type Monitor, type Pool } from "../src/config/pools";
import type { ProbeResult } from "../src/health/active";

/** How long a probe's response body may be for the body regex (bigger bodies are cut). */
const PROBE_BODY_LIMIT = 64 * 1024;

export async function runProbe(nodeUrl: string, monitor: Monitor, pool: Pick<Pool, "connectTimeoutMs">): Promise<ProbeResult> {
  return monitor.type === "tcp" ? tcpProbe(nodeUrl, monitor, tcpConnectBoundMs(pool, monitor)) : httpProbe(nodeUrl, monitor);
}

/** The monitor's method and path against the node, bounded by its timeout and a body limit. */
async function httpProbe(nodeUrl: string, monitor: Monitor): Promise<ProbeResult> {
  const url = new URL(monitor.path, nodeUrl.endsWith("/") ? nodeUrl : `${nodeUrl}/`);
  url.pathname = new URL(nodeUrl).pathname.replace(/\/$/, "") + monitor.path;
  const headers = monitor.host === undefined ? undefined : { host: monitor.host };
  try {
    const response = await fetch(url, { method: monitor.method, ...(headers ? { headers } : {}), redirect: "manual", signal: AbortSignal.timeout(monitor.timeoutMs) });
    const body = monitor.bodyRegex === undefined ? "" : (await response.text()).slice(0, PROBE_BODY_LIMIT);
    if (monitor.bodyRegex === undefined) void response.body?.cancel();
    return { kind: "response", status: response.status, body };
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return { kind: "timeout", afterMs: monitor.timeoutMs };
    return { kind: "network", message: error instanceof Error ? error.message : String(error) };
  }
}

/** Opens a TCP connection to the node's host and port and closes it: up when the handshake completes in time. */
async function tcpProbe(nodeUrl: string, monitor: Monitor, boundMs: number): Promise<ProbeResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let socket: Socket | undefined;
  try {
    socket = connect(tcpTarget(nodeUrl, monitor));
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), boundMs)));
    const outcome = await Promise.race([socket.opened.then(() => "connected" as const), timedOut]);
    return outcome === "timeout" ? { kind: "timeout", afterMs: boundMs } : { kind: "connected" };
  } catch (error) {
    return { kind: "network", message: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    // A refused or timed-out socket may reject on close as well; that says nothing new.
    void socket?.close().catch(() => {});
  }
}
