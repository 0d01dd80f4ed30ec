/**
 * Running shardcache on workerd directly through the Miniflare API (no `wrangler dev` proxy): the
 * worker is bundled with esbuild into a temp dir, and its bindings and compatibility settings come
 * from wrangler.toml (via wrangler's `unstable_getMiniflareWorkerOptions`, with a hand-built
 * fallback). Each worker gets its own direct loopback socket, so a shardcache worker and the bare
 * reference worker are reached through the same kind of listener.
 */
import { build } from "esbuild";
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Miniflare, type WorkerOptions } from "miniflare";
import { buildUiAssets } from "../build-ui";
import type { PortRange } from "./free-port";
import { descendantPids } from "./proc-cpu";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** The bare reference worker: a constant body about as long as the demo origin's default one. */
export const BARE_WORKER_SCRIPT = `export default { fetch() { return new Response("demo origin: /ref #1\\n", { headers: { "content-type": "text/plain; charset=utf-8" } }); } };\n`;

/**
 * A bare worker that answers exactly what an edge hit answers (its status, every header field and its
 * body, captured from a warmed hit and handed over once with a PUT), from a Headers built once, as the
 * edge's prepared hit does: the cost of the answer itself (its size, its header count) with none of
 * the cache's work. The edge hit's ratio to it is the part of the gap to the bare worker that is
 * shardcache's own code; the rest is what any worker pays to send that answer.
 */
export const BARE_ANSWER_WORKER_SCRIPT = `let answer = null;
export default {
  fetch(request) {
    if (request.method === "PUT") return request.json().then(({ status, headers, body }) => {
      answer = { body: new TextEncoder().encode(body), init: { status, headers: new Headers(headers) } };
      return new Response("ok\\n");
    });
    if (answer === null) return new Response("no answer yet\\n", { status: 503 });
    return new Response(answer.body, answer.init);
  },
};
`;

/**
 * The bare Durable Object round trip: a worker that hands the request to ONE Durable Object over RPC,
 * as the edge hands a shard-tier hit to its shard (`handle(new Request(request), context)`, a
 * `Response` back inside a result object), and the object answers a constant body without touching
 * storage. Same runtime, listener and kind of object (SQLite-backed) as CacheShard: what a shard hit
 * costs beyond this is the shard's own work.
 */
export const BARE_DO_WORKER_SCRIPT = `import { DurableObject } from "cloudflare:workers";
export class ConstantObject extends DurableObject {
  async handle(request, context) {
    return { v: 1, response: new Response("demo origin: /ref #1\\n", { headers: { "content-type": "text/plain; charset=utf-8" } }), trace: context.shard + "->HIT" };
  }
}
export default {
  async fetch(request, env) {
    const stub = env.CONSTANT.get(env.CONSTANT.idFromName("shard-0"));
    const result = await stub.handle(new Request(request), { key: request.url, shard: "shard-0" });
    return result.response;
  },
};
`;

export interface Bundle {
  dir: string;
  /** The bundled shardcache worker (an ES module). */
  scriptPath: string;
  dispose(): Promise<void>;
}

/**
 * Bundles src/index.ts (Durable Object classes included) into a fresh temp dir: from the working
 * tree, or from a git commit (`ref`, e.g. "HEAD") extracted with `git archive` into that dir, so a
 * run can measure committed code while the working tree is mid-edit.
 */
export async function bundleShardcache(ref: string | null = null): Promise<Bundle> {
  const dir = await mkdtemp(join(tmpdir(), "shardcache-bench-"));
  const scriptPath = join(dir, "index.js");
  let root = REPO_ROOT;
  if (ref !== null) {
    root = join(dir, "src-tree");
    await mkdir(root);
    execSync(
      `git -C ${JSON.stringify(REPO_ROOT)} archive --format=tar ${JSON.stringify(ref)} $(git -C ${JSON.stringify(REPO_ROOT)} ls-tree --name-only ${JSON.stringify(ref)} src durable ui package.json | tr '\\n' ' ') | tar -x -C ${JSON.stringify(root)}`,
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  }
  // The dashboard's assets are generated, not committed: build them in the tree being bundled.
  if (existsSync(join(root, "ui"))) await buildUiAssets(root);
  await build({
    entryPoints: [join(root, "src/index.ts")],
    nodePaths: [join(REPO_ROOT, "node_modules")],
    outfile: scriptPath,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  return { dir, scriptPath, dispose: () => rm(dir, { recursive: true, force: true }) };
}

type BaseOptions = Pick<WorkerOptions, "compatibilityDate" | "compatibilityFlags" | "durableObjects" | "bindings">;

/** compatibility date/flags, vars and DO bindings from wrangler.toml. */
export async function wranglerOptions(): Promise<{ options: BaseOptions; source: string }> {
  try {
    const wrangler = await import("wrangler");
    const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(join(REPO_ROOT, "wrangler.toml"));
    const w = workerOptions as unknown as BaseOptions;
    return {
      options: { compatibilityDate: w.compatibilityDate, compatibilityFlags: w.compatibilityFlags, durableObjects: w.durableObjects, bindings: w.bindings },
      source: "wrangler.toml via wrangler's unstable_getMiniflareWorkerOptions",
    };
  } catch {
    const sqlite = (className: string) => ({ className, useSQLite: true });
    return {
      options: {
        compatibilityDate: "2026-04-20",
        compatibilityFlags: ["nodejs_compat"],
        durableObjects: {
          CACHE_SHARD: sqlite("CacheShard"),
          HEALTH_MONITOR: sqlite("HealthMonitor"),
          EVENT_LOG: sqlite("EventLog"),
          RATE_LIMITER: sqlite("RateLimiter"),
          SLM_MONITOR: sqlite("SlmMonitor"),
          METRICS_COLLECTOR: sqlite("MetricsCollector"),
        },
        bindings: {},
      },
      source: "hand-built options (wrangler's helper was unavailable)",
    };
  }
}

export interface ShardcacheWorkerSpec {
  name: string;
  /** Config document stored in this worker's own CONFIG namespace under "config" (null: defaults). */
  config: unknown;
  /** The worker that defines the Durable Object classes; others bind to its namespaces. Omit for the owner. */
  doOwner?: string;
  /** Miniflare's Cache API store is shared by every worker of one instance; false gives this worker a no-op caches.default. */
  cacheApi?: boolean;
  /** Extra variables (e.g. EDGE_COUNTING: "off" for the bench's uncounted edge hit). */
  vars?: Record<string, string>;
}

export type WorkerSpec = ShardcacheWorkerSpec | { name: string; script: string; bindings?: Record<string, string>; cacheApi?: boolean; durableObjects?: Record<string, string> };

export interface Runtime {
  mf: Miniflare;
  urls: Map<string, string>;
  url(name: string): string;
  optionsSource: string;
  /** The workerd process(es) this instance runs, for CPU time from /proc (empty where unknown). */
  pids: number[];
  dispose(): Promise<void>;
}

/** Starts one Miniflare instance (one workerd process) with the given workers, each on its own loopback socket. */
export interface RuntimeOptions {
  /** Extra or overriding variables for every shardcache worker (e.g. CONFIG_MEMO_MS, ADMIN_TOKEN). */
  bindings?: Record<string, string>;
  /** Persist Durable Objects, KV and Cache under this directory, so a restarted runtime finds them again. */
  persistRoot?: string;
  /** Ports for the entry and every worker's socket (`--ports=A-B`); null: the OS picks. */
  ports?: PortRange | null;
  /** Open workerd's inspector (Chrome DevTools Protocol) on this port, for CPU profiles. */
  inspectorPort?: number;
}

export async function startRuntime(bundle: Bundle, originUrl: string, workers: readonly WorkerSpec[], opts: RuntimeOptions = {}): Promise<Runtime> {
  const { options: base, source } = await wranglerOptions();
  const ports = opts.ports ?? null;
  const workerOptions: WorkerOptions[] = [];
  for (const spec of workers) {
    const socket = { unsafeDirectSockets: [{ host: "127.0.0.1", port: ports === null ? 0 : await ports.take() }] };
    if ("script" in spec) {
      const durableObjects = Object.fromEntries(Object.entries(spec.durableObjects ?? {}).map(([binding, className]) => [binding, { className, useSQLite: true }]));
      workerOptions.push({ name: spec.name, modules: true, script: spec.script, compatibilityDate: base.compatibilityDate, bindings: spec.bindings ?? {}, durableObjects, cache: spec.cacheApi ?? true, ...socket });
      continue;
    }
    const durableObjects = Object.fromEntries(
      Object.entries(base.durableObjects ?? {}).map(([binding, def]) => {
        const className = typeof def === "string" ? def : (def as { className: string }).className;
        return [binding, spec.doOwner === undefined ? { className, useSQLite: true } : { className, scriptName: spec.doOwner, useSQLite: true }];
      }),
    );
    workerOptions.push({
      name: spec.name,
      modules: true,
      scriptPath: bundle.scriptPath,
      modulesRoot: bundle.dir,
      compatibilityDate: base.compatibilityDate,
      compatibilityFlags: base.compatibilityFlags,
      bindings: { ...(base.bindings ?? {}), ORIGIN_URL: originUrl, CONFIG_MEMO_MS: "60000", ...(spec.vars ?? {}), ...(opts.bindings ?? {}) },
      kvNamespaces: { CONFIG: `config-${spec.name}` },
      durableObjects,
      cache: spec.cacheApi ?? true,
      ...socket,
    } as WorkerOptions);
  }
  const before = new Set(descendantPids("workerd"));
  const mf = new Miniflare({
    workers: workerOptions,
    host: "127.0.0.1",
    port: ports === null ? 0 : await ports.take(),
    ...(opts.inspectorPort === undefined ? {} : { inspectorPort: opts.inspectorPort }),
    ...(opts.persistRoot === undefined ? {} : { defaultPersistRoot: opts.persistRoot }),
  });
  await mf.ready;
  const pids = descendantPids("workerd").filter((pid) => !before.has(pid));
  for (const spec of workers) {
    if ("config" in spec && spec.config !== null) {
      const kv = await mf.getKVNamespace("CONFIG", spec.name);
      await kv.put("config", JSON.stringify(spec.config));
    }
  }
  const urls = new Map<string, string>();
  for (const spec of workers) urls.set(spec.name, (await mf.unsafeGetDirectURL(spec.name)).toString().replace(/\/$/, ""));
  return {
    mf,
    urls,
    url: (name) => {
      const u = urls.get(name);
      if (u === undefined) throw new Error(`no worker ${name}`);
      return u;
    },
    optionsSource: source,
    pids,
    dispose: () => mf.dispose(),
  };
}

/** The workerd version the installed miniflare runs. */
export async function workerdVersion(): Promise<string | null> {
  try {
    const { createRequire } = await import("node:module");
    const require = createRequire(import.meta.url);
    return (require("workerd/package.json") as { version: string }).version;
  } catch {
    return null;
  }
}

export async function writeTemp(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** `--source=REF` on the command line: bundle that commit instead of the working tree. */
export function sourceRefFromArgs(argv: readonly string[]): string | null {
  const arg = argv.find((a) => a.startsWith("--source="));
  return arg === undefined ? null : arg.slice("--source=".length) || null;
}
