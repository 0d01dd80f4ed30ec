/**
 * The shardcache CLI: drives the admin API of a running worker (local `npm start` by default, or a
 * deployed one with --url/--token). `npm run cli -- --help` for usage; scripts/cli-args.ts parses.
 * Exit codes: 0 ok, 1 invalid config or HTTP error, 2 usage error.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import { parseCliArgs, USAGE, type CliCommand, type CliOptions } from "./cli-args";
import { parseJsonText, validateConfigFile } from "./validate-config";

export interface CliIo {
  fetch: typeof fetch;
  out(line: string): void;
  err(line: string): void;
  /** Waits between `top` refreshes. */
  sleep?(ms: number): Promise<void>;
  /** True when stdout is a terminal: `top` then redraws in place. */
  tty?: boolean;
}

const defaultIo: CliIo = {
  fetch: (...args) => fetch(...args),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  tty: process.stdout.isTTY === true,
};

type ErrorList = { path: string; message: string }[];

export async function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCliArgs(argv, env);
  if (!parsed.ok) {
    io.err(`error: ${parsed.error}`);
    io.err(USAGE);
    return 2;
  }
  // Recorded with every config change the worker accepts (X-Shardcache-Actor; see config history).
  const actor = env.SHARDCACHE_ACTOR ?? `${env.USER ?? env.USERNAME ?? "unknown"}@${hostname()}`;
  try {
    return await run(parsed.command, { ...parsed.options, actor }, io);
  } catch (error) {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

type RunOptions = CliOptions & { actor: string };

async function run(command: CliCommand, opts: RunOptions, io: CliIo): Promise<number> {
  switch (command.kind) {
    case "help":
      io.out(USAGE);
      return 0;
    case "config-validate": {
      const result = await validateConfigFile(command.file);
      if (!result.ok) return printErrors(result.errors, io, `${command.file} is not a valid config`);
      io.out(`${command.file}: valid`);
      return 0;
    }
    case "config-push": {
      const result = await validateConfigFile(command.file);
      if (!result.ok) return printErrors(result.errors, io, `${command.file} is not a valid config; nothing was uploaded`);
      const text = await readFile(command.file, "utf8");
      const reply = await call(opts, io, "PUT", "/config", text);
      if (!reply.ok) return reportHttpError(reply, io);
      io.out(`config pushed: version ${String(reply.body.number ?? "?")} (${String(reply.body.version)}): ${String(reply.body.summary ?? "")} (edges pick it up within the config memo period)`);
      return 0;
    }
    case "config-history": {
      const reply = await call(opts, io, "GET", "/config/versions");
      if (!reply.ok) return reportHttpError(reply, io);
      const body = reply.body as { active: string; versions: { version: number; at: number; by: string; summary: string; hash: string }[] };
      if (command.json) io.out(JSON.stringify(body, null, 2));
      else if (body.versions.length === 0) io.out("no versions recorded yet (history starts with the first accepted PUT /config)");
      else for (const v of body.versions) io.out(`${String(v.version).padStart(4)}  ${new Date(v.at).toISOString()}  ${v.hash}${v.hash === body.active ? "*" : " "}  ${v.by}: ${v.summary}`);
      return 0;
    }
    case "config-rollback": {
      const reply = await call(opts, io, "POST", "/config/rollback", JSON.stringify({ version: command.version }));
      if (!reply.ok) return reportHttpError(reply, io);
      io.out(`rolled back to version ${command.version}: now version ${String(reply.body.version)} (${String(reply.body.hash)})`);
      return 0;
    }
    case "config-diff": {
      const text = await readFile(command.file, "utf8");
      const json = parseJsonText(text);
      if (!json.ok) return printErrors([{ path: "(root)", message: json.message }], io, `${command.file} is not a valid config`);
      const reply = await call(opts, io, "POST", "/config/diff", text);
      if (!reply.ok && !Array.isArray(reply.body?.changes)) return reportHttpError(reply, io);
      const body = reply.body as { valid: boolean; errors?: ErrorList; active: string; candidate: string; changes: { op: string; path: string; before?: unknown; after?: unknown }[] };
      if (command.json) io.out(JSON.stringify(body, null, 2));
      else {
        io.out(`${command.file} (${body.candidate}) against the stored config (${body.active}): ${body.changes.length} change(s)`);
        for (const c of body.changes)
          io.out(c.op === "add" ? `+ ${c.path}: ${JSON.stringify(c.after)}` : c.op === "remove" ? `- ${c.path}: ${JSON.stringify(c.before)}` : `~ ${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`);
      }
      if (!body.valid) return printErrors(body.errors ?? [], io, `${command.file} is not a valid config; pushing it would be refused`);
      return 0;
    }
    case "node-state": {
      const reply = await call(opts, io, "POST", `/pools/${encodeURIComponent(command.pool)}/nodes/${encodeURIComponent(command.node)}/${command.action}`);
      if (!reply.ok) return reportHttpError(reply, io);
      io.out(`${String(reply.body.summary)}: version ${String(reply.body.version)}`);
      return 0;
    }
    case "rule-add": {
      const json = parseJsonText(await readFile(command.file, "utf8"));
      if (!json.ok) return printErrors([{ path: "(root)", message: json.message }], io, `${command.file} is not a valid rule`);
      const reply = await call(opts, io, "POST", "/rules", JSON.stringify({ rule: json.value, ...(command.position === undefined ? {} : { position: command.position }) }));
      if (!reply.ok) return reportHttpError(reply, io);
      io.out(`${String(reply.body.summary)}: version ${String(reply.body.version)}`);
      return 0;
    }
    case "rule-remove": {
      const reply = await call(opts, io, "DELETE", `/rules/${encodeURIComponent(command.name)}`);
      if (!reply.ok) return reportHttpError(reply, io);
      io.out(`${String(reply.body.summary)}: version ${String(reply.body.version)}`);
      return 0;
    }
    case "config-pull": {
      const reply = await call(opts, io, "GET", "/config");
      if (!reply.ok) return reportHttpError(reply, io);
      io.err(`# source: ${String(reply.body.source)}, version: ${String(reply.body.version)}`);
      io.out(JSON.stringify(reply.body.config, null, 2));
      return 0;
    }
    case "purge": {
      const reply = await call(opts, io, "POST", "/purge", JSON.stringify({ ...command.selector, ...(command.soft ? { soft: true } : {}) }));
      if (!reply.ok && reply.status !== 502) return reportHttpError(reply, io);
      const body = reply.body as {
        ok: boolean;
        shards: { purged: number; failed: number; each: { shard: string; error?: string }[] };
        edge: { logged: boolean; logError?: string; zone: { status: string; reason?: string; error?: string } };
        key?: string;
      };
      const what = Object.entries(command.selector)
        .map(([k, v]) => (v === true ? k : `${k} ${String(v)}`))
        .join("");
      io.out(`${command.soft ? "soft " : ""}purge ${what}${body.key ? ` (key ${body.key})` : ""}: ${body.shards.purged} stored variant(s) ${command.soft ? "marked stale" : "deleted"}`);
      io.out(
        `edge tier: ${body.edge.logged ? "purge recorded (every edge refuses older copies)" : `purge log write FAILED: ${body.edge.logError ?? "?"}`}; zone purge API: ${body.edge.zone.status}${body.edge.zone.reason ? ` (${body.edge.zone.reason})` : ""}${body.edge.zone.error ? ` (${body.edge.zone.error})` : ""}`,
      );
      for (const shard of body.shards.each) if (shard.error !== undefined) io.err(`shard ${shard.shard} failed: ${shard.error}`);
      return body.ok ? 0 : 1;
    }
    case "stats": {
      const reply = await call(opts, io, "GET", "/stats");
      if (!reply.ok) return reportHttpError(reply, io);
      if (command.json) io.out(JSON.stringify(reply.body, null, 2));
      else printStats(reply.body as StatsBody, io);
      return 0;
    }
    case "top": {
      let previous: { body: StatsBody; at: number } | null = null;
      for (let i = 0; command.count === null || i < command.count; i++) {
        if (i > 0) await (io.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(command.intervalSeconds * 1000);
        const reply = await call(opts, io, "GET", "/stats");
        if (!reply.ok) return reportHttpError(reply, io);
        const at = performance.now();
        if (io.tty) io.out("\x1b[H\x1b[2J");
        io.out(`shardcache top — ${opts.url} — ${new Date().toISOString().slice(11, 19)} UTC, every ${command.intervalSeconds} s${command.count === null ? " (Ctrl-C to stop)" : ""}`);
        printStats(reply.body as StatsBody, io, previous === null ? null : { body: previous.body, seconds: (at - previous.at) / 1000 });
        previous = { body: reply.body as StatsBody, at };
      }
      return 0;
    }
    case "events": {
      const query = new URLSearchParams();
      if (command.since !== undefined) query.set("sinceId", String(command.since));
      if (command.limit !== undefined) query.set("limit", String(command.limit));
      if (command.level !== undefined) query.set("minLevel", command.level);
      const reply = await call(opts, io, "GET", `/events${query.size > 0 ? `?${query}` : ""}`);
      if (!reply.ok) return reportHttpError(reply, io);
      const events = (reply.body as { events: EventBody[] }).events;
      if (command.json) io.out(JSON.stringify(reply.body, null, 2));
      else if (events.length === 0) io.out("no events");
      else for (const e of events) io.out(`${String(e.id).padStart(5)}  ${new Date(e.time).toISOString()}  ${e.level.padEnd(7)}  ${e.section}  ${e.tag}: ${e.text}`);
      return 0;
    }
    case "events-test": {
      const { kind: _kind, ...event } = command;
      const reply = await call(opts, io, "POST", "/events/test", JSON.stringify(event));
      if (!reply.ok) return reportHttpError(reply, io);
      const e = reply.body.event as EventBody;
      io.out(`test event ${e.id} raised: ${e.level} ${e.section} ${e.tag}: ${e.text} (each event handler whose filter matches receives it)`);
      return 0;
    }
    case "rates": {
      const reply = await call(opts, io, "GET", "/rates");
      if (!reply.ok) return reportHttpError(reply, io);
      if (command.json) io.out(JSON.stringify(reply.body, null, 2));
      else printRates(reply.body as RatesBody, io);
      return 0;
    }
    case "health": {
      const reply = await call(opts, io, "GET", "/health");
      if (!reply.ok) return reportHttpError(reply, io);
      io.out(`ok: config ${String(reply.body.configVersion)} (${String(reply.body.configSource)}), ${String(reply.body.shards)} shards`);
      return 0;
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a reply body is whatever JSON the worker sent; each command reads the fields it prints.
type Reply = { ok: boolean; status: number; body: any; url: string };

async function call(opts: RunOptions, io: CliIo, method: string, path: string, body?: string): Promise<Reply> {
  const url = `${opts.url}${opts.adminPrefix}${path}`;
  let response: Response;
  try {
    response = await io.fetch(url, {
      method,
      headers: { authorization: `Bearer ${opts.token}`, "x-shardcache-actor": opts.actor, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : error instanceof Error ? `: ${error.message}` : "";
    throw new Error(`cannot reach ${url}${cause} (is \`npm start\` running, or is --url right?)`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { error: text.slice(0, 500) };
  }
  return { ok: response.ok, status: response.status, body: parsed, url };
}

function printErrors(errors: ErrorList, io: CliIo, summary: string): number {
  for (const error of errors) io.err(`${error.path}: ${error.message}`);
  io.err(`${summary} (${errors.length} error${errors.length === 1 ? "" : "s"})`);
  return 1;
}

function reportHttpError(reply: Reply, io: CliIo): number {
  if (Array.isArray(reply.body?.errors)) return printErrors(reply.body.errors as ErrorList, io, `refused by the worker (HTTP ${reply.status})`);
  if (reply.status === 405 || reply.status === 409 || (reply.status === 404 && typeof reply.body?.error === "string" && !reply.body.error.startsWith("no admin endpoint"))) {
    io.err(`error: ${String(reply.body.error)} (HTTP ${reply.status})`);
    return 1;
  }
  const hint = reply.status === 401 ? " — check --token / $SHARDCACHE_TOKEN" : reply.status === 503 ? " — set the ADMIN_TOKEN secret on the worker" : reply.status === 404 ? " — check --url and --admin-prefix" : "";
  io.err(`error: HTTP ${reply.status} from ${reply.url}: ${String(reply.body?.error ?? "")}${hint}`);
  return 1;
}

type Cluster = { requests: number; edge: Record<string, number>; shard: Record<string, number>; hits: number; cacheable: number; hitRatio: number | null; originFetches: number; bytesServed: number };
type StatsBody = { cluster?: Cluster; shards: ({ shard: string; error?: string } & Record<string, number>)[]; total: Record<string, number> };
const COLUMNS = ["hits", "misses", "coalesced", "originFetches", "passes", "stores", "objects", "storedBytes", "evictions"] as const;

const outcomeLine = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(", ");

/** The cluster block: both tiers' outcomes and the hit ratio; with `since`, rates per second over the interval. */
function printCluster(c: Cluster, io: CliIo, since: { body: StatsBody; seconds: number } | null): void {
  const before = since?.body.cluster;
  const rate = (now: number, then: number | undefined) => (since === null || then === undefined || since.seconds <= 0 ? "" : ` (${((now - then) / since.seconds).toFixed(1)}/s)`);
  io.out(`requests      ${c.requests}${rate(c.requests, before?.requests)}   hit ratio ${c.hitRatio === null ? "–" : `${(c.hitRatio * 100).toFixed(1)} %`} (${c.hits} hits of ${c.cacheable} cacheable)`);
  io.out(`edge tier     ${outcomeLine(c.edge)}`);
  io.out(`shard tier    ${outcomeLine(c.shard)}`);
  io.out(`origin        ${c.originFetches} fetches${rate(c.originFetches, before?.originFetches)}   bytes served ${c.bytesServed}`);
  io.out("");
}

function printStats(body: StatsBody, io: CliIo, since: { body: StatsBody; seconds: number } | null = null): void {
  if (body.cluster !== undefined) printCluster(body.cluster, io, since);
  const rows = [...body.shards.map((s) => [s.shard, ...COLUMNS.map((c) => (s.error !== undefined ? "-" : String(s[c])))]), ["total", ...COLUMNS.map((c) => String(body.total[c]))]];
  const header = ["shard", ...COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  io.out(line(header));
  for (const row of rows) io.out(line(row));
  for (const s of body.shards) if (s.error !== undefined) io.err(`shard ${s.shard}: ${s.error}`);
}

type EventBody = { id: number; time: number; level: string; section: string; tag: string; text: string };
type RatesBody = {
  rateClasses: Record<string, { mode: string; factor: number; perSecond: number; perMinute: number; backlog: number; contexts: number; effectiveLimits: { perSecond?: number; perMinute?: number } }>;
  slmClasses: Record<string, { state: string; percent: number | null; samples: number }>;
};

function printRates(body: RatesBody, io: CliIo): void {
  const classes = Object.entries(body.rateClasses);
  if (classes.length === 0) io.out("no rate classes configured");
  for (const [name, c] of classes) {
    const limits = [c.effectiveLimits.perSecond === undefined ? null : `${c.effectiveLimits.perSecond}/s`, c.effectiveLimits.perMinute === undefined ? null : `${c.effectiveLimits.perMinute}/min`].filter((x) => x !== null).join(", ");
    io.out(`rate class ${name} (${c.mode}, limit ${limits}, factor ${c.factor}): ${c.perSecond}/s, ${c.perMinute}/min, backlog ${c.backlog}, ${c.contexts} context(s)`);
  }
  for (const [name, s] of Object.entries(body.slmClasses)) io.out(`SLM class ${name}: ${s.state}${s.percent === null ? "" : `, ${s.percent}% conforming`} over ${s.samples} sample(s)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
