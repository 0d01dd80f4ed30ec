/**
 * Origin pools and active health monitors: the `pools` and `monitors` sections of the config
 * document, as zod schemas (strict, every tunable defaulted) with their types inferred from them.
 */
import * as z from "zod";
import { linearRegexSchema } from "../lib/linear-regex";

export const nodeStates = ["active", "draining", "disabled"] as const;
export const lbAlgorithms = ["round-robin", "weighted-round-robin", "least-connections", "fastest-response-time", "random"] as const;

/** Every URL a config document holds: http: or https: only (no file:, javascript:, data: …). */
export const httpUrlSchema = z.url({ protocol: /^https?$/, error: "must be an absolute http:// or https:// URL" });

export const poolNodeSchema = z.strictObject({
  /** Base URL of the node; the client's path and query are appended to it. */
  url: httpUrlSchema,
  /** Share of traffic relative to the other nodes (weighted algorithms only). */
  weight: z.number().positive().max(1000).default(1),
  /** `draining` finishes in-flight requests but takes no new ones; `disabled` takes nothing. */
  state: z.enum(nodeStates).default("active"),
  /** Priority group: nodes of the highest priority that has working nodes take the traffic (see `priorityMinNodes`). */
  priority: z.number().int().min(1).max(100).default(1),
});

/**
 * Pinning a client to one node for pass-through traffic (shard misses are shared by every client
 * and are never pinned). `cookie`: the node is named, by an opaque token, in a cookie the edge sets;
 * `client-ip`: rendezvous hashing of the client address over the working nodes, so losing a node
 * moves only its clients.
 */
export const sessionPersistenceSchema = z.discriminatedUnion("mode", [
  z.strictObject({
    mode: z.literal("cookie"),
    cookieName: z
      .string()
      .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/, "must be a cookie name (an RFC 6265 token, up to 64 characters)")
      .default("shardcache_node"),
  }),
  z.strictObject({ mode: z.literal("client-ip") }),
]);

export const poolSchema = z
  .strictObject({
    nodes: z.array(poolNodeSchema).min(1, "a pool needs at least one node"),
    algorithm: z.enum(lbAlgorithms).default("round-robin"),
    /**
     * Time allowed to establish the connection to a node. Workers `fetch()` has no separate connect
     * phase (its only bound is an AbortSignal over connect + request + wait for headers), so for
     * HTTP traffic this budget is added to `firstByteTimeoutMs` and the sum bounds the wait for
     * headers; a `tcp` monitor bounds the TCP connect itself with it (`cloudflare:sockets`).
     */
    connectTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** Time allowed from sending the request until response headers arrive (see `connectTimeoutMs`). */
    firstByteTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Further nodes tried for an idempotent request whose node failed (0 = no retry). */
    retries: z.number().int().min(0).max(10).default(2),
    /** Consecutive failed requests after which passive health marks a node failed. */
    failuresToFail: z.number().int().min(1).max(1000).default(3),
    /** How long a failed node gets no traffic before live traffic probes it again. */
    nodeFailTimeSeconds: z.number().int().min(1).max(86_400).default(60),
    /** Names of entries in the `monitors` section that probe every node of this pool. */
    monitors: z.array(z.string().min(1)).default([]),
    /** Fewest working nodes the chosen priority groups must hold; lower groups join until they do. */
    priorityMinNodes: z.number().int().min(1).max(1000).default(1),
    /** Pool that takes the traffic when no node of this one can (all down, draining or disabled). */
    failpool: z.string().min(1).optional(),
    sessionPersistence: sessionPersistenceSchema.optional(),
  })
  .superRefine((pool, ctx) => {
    // Health state and events are keyed by node URL, so two nodes with one URL would share them.
    const seen = new Set<string>();
    pool.nodes.forEach((node, i) => {
      if (seen.has(node.url)) ctx.addIssue({ code: "custom", path: ["nodes", i, "url"], message: `duplicate node ${node.url} in this pool` });
      seen.add(node.url);
    });
  });

const statusCode = z.number().int().min(100).max(599);

export const monitorTypes = ["http", "tcp"] as const;

export const monitorSchema = z
  .strictObject({
    /** `http`: a request whose status (and body) is checked; `tcp`: only a TCP connect to the node's host and port. */
    type: z.enum(monitorTypes).default("http"),
    /** Port for a `tcp` monitor; default the node URL's port (80 / 443 by scheme). */
    port: z.number().int().min(1).max(65_535).optional(),
    method: z.enum(["GET", "HEAD"]).default("GET"),
    path: z.string().startsWith("/", "must start with /").default("/"),
    /** Host header to send, for nodes addressed by IP that serve several virtual hosts. */
    host: z.string().min(1).optional(),
    expectStatus: z
      .strictObject({ min: statusCode, max: statusCode })
      .refine((r) => r.min <= r.max, { message: "min must not exceed max", path: ["max"] })
      .default({ min: 200, max: 399 }),
    /** A regular expression the response body must match (GET monitors only). */
    bodyRegex: linearRegexSchema.optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(2000),
    intervalSeconds: z.number().int().min(1).max(3600).default(10),
    /** Consecutive failed probes before the node is marked down (hysteresis against flapping). */
    failuresToMarkDown: z.number().int().min(1).max(100).default(3),
    /** Consecutive good probes before a down node is marked up again. */
    successesToMarkUp: z.number().int().min(1).max(100).default(2),
  })
  .superRefine((monitor, ctx) => {
    // A HEAD response has no body, so a body check could never pass and would hold the node down.
    if (monitor.method === "HEAD" && monitor.bodyRegex !== undefined) {
      ctx.addIssue({ code: "custom", path: ["bodyRegex"], message: "a HEAD monitor receives no body; use GET to check the body" });
    }
    // A TCP monitor sends nothing and reads nothing: a body check could never run.
    if (monitor.type === "tcp" && monitor.bodyRegex !== undefined) {
      ctx.addIssue({ code: "custom", path: ["bodyRegex"], message: "a tcp monitor only connects; use an http monitor to check the body" });
    }
    if (monitor.type === "http" && monitor.port !== undefined) {
      ctx.addIssue({ code: "custom", path: ["port"], message: "port applies to tcp monitors; an http monitor uses the node URL" });
    }
  });

export const poolsSchema = z.record(z.string(), poolSchema).superRefine((pools, ctx) => {
  for (const [name, pool] of Object.entries(pools)) {
    if (pool.failpool === undefined) continue;
    if (!Object.hasOwn(pools, pool.failpool)) ctx.addIssue({ code: "custom", path: [name, "failpool"], message: `no pool named "${pool.failpool}"` });
    else if (failpoolChain(name, pools) === null) ctx.addIssue({ code: "custom", path: [name, "failpool"], message: `failpool chain from "${name}" comes back to a pool already in it` });
  }
});

/**
 * The pools tried, in order, after `name` when it has no working node: its failpool, that pool's
 * failpool, and so on. Null when the chain loops (the schema refuses such a document).
 */
export function failpoolChain(name: string, pools: Record<string, Pick<Pool, "failpool">>): string[] | null {
  const chain: string[] = [];
  const seen = new Set([name]);
  for (let next = pools[name]?.failpool; next !== undefined; next = pools[next]?.failpool) {
    if (seen.has(next)) return null;
    seen.add(next);
    if (!Object.hasOwn(pools, next)) break;
    chain.push(next);
  }
  return chain;
}
export const monitorsSchema = z.record(z.string(), monitorSchema);

export type PoolInput = z.input<typeof poolSchema>;
export type Pool = z.output<typeof poolSchema>;
export type PoolNode = z.output<typeof poolNodeSchema>;
export type NodeState = PoolNode["state"];
export type LbAlgorithm = Pool["algorithm"];
export type MonitorInput = z.input<typeof monitorSchema>;
export type Monitor = z.output<typeof monitorSchema>;
export type Pools = z.output<typeof poolsSchema>;
export type Monitors = z.output<typeof monitorsSchema>;
export type SessionPersistence = z.output<typeof sessionPersistenceSchema>;

/**
 * How long a fetch to a node may wait for response headers. Workers `fetch()` cannot bound the
 * connect on its own, so the connect budget is added to the first-byte budget: a node that never
 * accepts the connection fails after `connectTimeoutMs + firstByteTimeoutMs`, never later.
 */
export function headersDeadlineMs(pool: Pick<Pool, "connectTimeoutMs" | "firstByteTimeoutMs">): number {
  return pool.connectTimeoutMs + pool.firstByteTimeoutMs;
}

/** A TCP monitor's connect bound: the pool's connect timeout, never longer than the monitor's own timeout. */
export function tcpConnectBoundMs(pool: Pick<Pool, "connectTimeoutMs">, monitor: Pick<Monitor, "timeoutMs">): number {
  return Math.min(pool.connectTimeoutMs, monitor.timeoutMs);
}

/** The host and port a TCP monitor connects to for a node: the node URL's, or the monitor's port. */
export function tcpTarget(nodeUrl: string, monitor: Pick<Monitor, "port">): { hostname: string; port: number } {
  const url = new URL(nodeUrl);
  const port = monitor.port ?? (url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port));
  // URL keeps IPv6 literals in brackets; a socket address wants the bare address.
  return { hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

/**
 * Pools naming a monitor that the `monitors` section does not define. This crosses two sections,
 * so the config document's own superRefine calls it; paths are relative to the document root.
 */
export function unknownMonitorIssues(pools: Pools, monitors: Monitors): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [poolName, pool] of Object.entries(pools)) {
    pool.monitors.forEach((name, i) => {
      if (!Object.hasOwn(monitors, name)) issues.push({ path: ["pools", poolName, "monitors", i], message: `no monitor named "${name}"` });
    });
  }
  return issues;
}
