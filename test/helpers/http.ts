/**
 * Small helpers for the end-to-end RFC tests (test/workers/rfc-*.test.ts): requests through the real
 * worker (SELF.fetch, or its fetch handler with the test's own execution context), query strings for
 * the demo origin, Cache-Status parsing and origin failure switches scoped to one path prefix (so
 * parallel test files never see each other's failures).
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import worker from "../../src/index";
import { now } from "./clock";
import { originUrl } from "./origin";

export const BASE = "http://cache.test";

/** A request through the edge worker; the body is read (so the shard's store completes) unless `keepBody`. */
export async function fetchVia(path: string, init?: RequestInit & { base?: string }): Promise<Response & { text_: string }> {
  const response = await SELF.fetch(`${init?.base ?? BASE}${path}`, { redirect: "manual", ...init });
  const text = await response.text();
  return Object.assign(response, { text_: text });
}

/**
 * Where the edge counter's batch timer is started: the first count of a batch keeps a flush
 * EDGE_FLUSH_AFTER_MS (5 s) later alive through that request's waitUntil. It sends the whole isolate's
 * counts, not this request's work, so fetchSettled does not wait for it; it tells that call from the
 * others by the frame it came from, as the sleep meter tells the tests' timers from the worker's.
 */
const ISOLATE_BATCH_TIMER = "/src/edge/edge-counter.ts";

/**
 * Like fetchVia, but through the worker's fetch handler with an execution context of the test's own,
 * and resolved only when the body is read and everything the request handed to waitUntil has finished
 * (invalidations, the store of a POST response a GET may reuse, the edge copy's write). That is the
 * positive signal a test needs to show something did NOT happen in the background: afterwards it has
 * either happened or never will. (A shard's own background work: test/helpers/shards.ts `untilIdle`.)
 */
export async function fetchSettled(path: string, init?: RequestInit & { base?: string }): Promise<Response & { text_: string }> {
  const ctx = createExecutionContext();
  const keepAlive = ctx.waitUntil.bind(ctx);
  const background: Promise<unknown>[] = [];
  ctx.waitUntil = (promise: Promise<unknown>) => {
    keepAlive(promise);
    if (!(new Error().stack ?? "").includes(ISOLATE_BATCH_TIMER)) background.push(promise.catch(() => {}));
  };
  const request = new Request(`${init?.base ?? BASE}${path}`, { redirect: "manual", ...init }) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, env as never, ctx);
  const text = await response.text();
  // Until nothing new was handed over while waiting (background work may start more).
  for (let waited = 0; waited < background.length; ) {
    const batch = background.slice(waited);
    waited = background.length;
    await Promise.all(batch);
  }
  return Object.assign(response, { text_: text });
}

/** `path?name=value&…` with every value percent-encoded (the origin counts exactly this string). */
export function withQuery(path: string, params: Record<string, string>): string {
  const query = Object.entries(params)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");
  return query === "" ? path : `${path}?${query}`;
}

/** One Cache-Status member: its cache name and parameters (`true` for bare boolean params). */
export interface StatusMember {
  cache: string;
  params: Record<string, string | number | boolean>;
}

/** Parses Cache-Status just enough for the tests (tokens, integers, booleans, sf-strings without commas). */
export function cacheStatus(response: Response): StatusMember[] {
  const value = response.headers.get("cache-status") ?? "";
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((member) => {
      const [cache, ...rest] = member.split(";");
      const params: StatusMember["params"] = {};
      for (const p of rest) {
        const [name, raw] = p.split("=") as [string, string | undefined];
        if (raw === undefined) params[name] = true;
        else if (raw === "?0") params[name] = false;
        else if (raw === "?1") params[name] = true;
        else if (/^-?\d+$/.test(raw)) params[name] = Number(raw);
        else params[name] = raw.replace(/^"|"$/g, "");
      }
      return { cache: cache ?? "", params };
    });
}

/** The shard's and the edge's members (undefined when that hop did not answer). */
export function members(response: Response): { shard: StatusMember | undefined; edge: StatusMember | undefined } {
  const list = cacheStatus(response);
  return { shard: list.find((m) => m.cache === "shardcache-shard"), edge: list.find((m) => m.cache === "shardcache-edge") };
}

/** Did any hop answer from cache? */
export function isHit(response: Response): boolean {
  return cacheStatus(response).some((m) => m.params.hit === true);
}

/** Makes the origin fail for paths under `prefix` (see scripts/demo-origin.ts for the modes), or stop failing ("off"). */
export async function failOrigin(prefix: string, mode: "reset" | "503" | "cut" | "500" | "hang" | "stall" | "reset-body" | "hold" | "off"): Promise<void> {
  const response = await fetch(`${originUrl}/__fail?mode=${mode}&prefix=${encodeURIComponent(prefix)}`, { method: "POST" });
  await response.arrayBuffer();
}

/** An HTTP-date `offsetSeconds` from now (the worker's clock, which tests move: test/helpers/clock.ts). */
export function httpDate(offsetSeconds: number): string {
  return new Date(now() + offsetSeconds * 1000).toUTCString();
}
