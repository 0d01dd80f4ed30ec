/**
 * Argument parsing for `npm run cli -- …` (scripts/cli.ts), kept pure so it can be unit-tested.
 *
 *   [--url URL] [--token TOKEN] [--admin-prefix PATH] <command>
 *   config validate FILE | config push FILE | config pull | purge (--url U | --key K | --prefix P | --tag T | --all) [--soft]
 *   | stats | top | health | events [--since ID] [--limit N] [--level L] [--json] | rates [--json]
 *
 * Global options go before the command (after it too, except `--url` after `purge`, which is the URL
 * to purge). Defaults: local dev (`npm start`): http://127.0.0.1:$PORT (8787) with token dev-admin-token;
 * env SHARDCACHE_URL / SHARDCACHE_TOKEN / SHARDCACHE_ADMIN_PREFIX override the defaults, flags override env.
 */

import { DEV_ADMIN_TOKEN } from "../src/lib/dev-token";

export const DEFAULT_URL = "http://127.0.0.1:8787";
export const DEFAULT_TOKEN = DEV_ADMIN_TOKEN;
export const DEFAULT_ADMIN_PREFIX = "/_shardcache";

export const EVENT_LEVELS = ["INFO", "WARNING", "SERIOUS", "FATAL"] as const;
export type EventLevelArg = (typeof EVENT_LEVELS)[number];

export type PurgeSelectorArg = { url: string } | { key: string } | { prefix: string } | { tag: string } | { all: true };

export type CliCommand =
  | { kind: "config-validate"; file: string }
  | { kind: "config-push"; file: string }
  | { kind: "config-pull" }
  | { kind: "config-history"; json: boolean }
  | { kind: "config-rollback"; version: number }
  | { kind: "config-diff"; file: string; json: boolean }
  | { kind: "node-state"; action: "drain" | "disable" | "enable"; pool: string; node: string }
  | { kind: "rule-add"; file: string; position?: number }
  | { kind: "rule-remove"; name: string }
  | { kind: "purge"; selector: PurgeSelectorArg; soft: boolean }
  | { kind: "stats"; json: boolean }
  | { kind: "top"; intervalSeconds: number; count: number | null }
  | { kind: "health" }
  | { kind: "events"; since?: number; limit?: number; level?: EventLevelArg; json: boolean }
  | { kind: "rates"; json: boolean }
  | { kind: "help" };

export interface CliOptions {
  /** Base URL of the worker, without a trailing slash. */
  url: string;
  token: string;
  adminPrefix: string;
}

export type ParsedArgs = { ok: true; command: CliCommand; options: CliOptions } | { ok: false; error: string };

export const USAGE = `usage: npm run cli -- [--url URL] [--token TOKEN] [--admin-prefix PATH] <command>

commands:
  config validate FILE      check a config file offline (prints "path: message" per error)
  config push FILE          validate, then store it as the cluster's config (PUT /config)
  config pull               print the stored config (GET /config)
  config history [--json]   the kept versions, newest first: number, when, who, summary (GET /config/versions)
  config rollback N         make kept version N the config again, as a new version (POST /config/rollback)
  config diff FILE [--json] what pushing FILE would change, and whether it is valid (POST /config/diff)
  pool drain|disable|enable POOL NODE
                            set one node's state (NODE: its URL or its index in the pool); a new version
  rule add FILE [--position N]
                            add the rule in FILE (a JSON object with a name), last or at position N
  rule remove NAME          remove the rule named NAME
  purge --url U | --key K | --prefix P | --tag T | --all  [--soft]
                            purge one URL, cache key, key prefix (e.g. https://example.com/img/),
                            Cache-Tag / Surrogate-Key tag, or everything; --soft marks stale instead
  stats [--json]            cluster figures (both tiers, hit ratio) and per-shard counters (GET /stats)
  top [--interval S] [--count N]
                            the cluster figures, refreshed every S seconds (default 2) with rates
                            since the last refresh; N refreshes, or until Ctrl-C
  health                    is the worker up, and which config version does it run (GET /health)
  events [--since ID] [--limit N] [--level INFO|WARNING|SERIOUS|FATAL] [--json]
                            the cluster event log, oldest first (GET /events); --level is the minimum
  rates [--json]            every rate class's current rate, backlog and shaping factor, and the
                            SLM classes' states (GET /rates)

options (before the command):
  --url URL                 the worker (default $SHARDCACHE_URL, else http://127.0.0.1:$PORT, else ${DEFAULT_URL})
  --token TOKEN             admin token (default ${DEFAULT_TOKEN}, or $SHARDCACHE_TOKEN)
  --admin-prefix PATH       admin API prefix (default ${DEFAULT_ADMIN_PREFIX}, or $SHARDCACHE_ADMIN_PREFIX)

exit codes: 0 ok, 1 invalid config or HTTP error, 2 usage error`;

const GLOBAL_FLAGS = new Set(["--url", "--token", "--admin-prefix"]);
const PURGE_FLAGS = new Set(["--url", "--key", "--prefix", "--tag"]);

/** Splits `--name=value` into `--name value`. */
function normalise(argv: readonly string[]): string[] {
  return argv.flatMap((arg) => {
    const eq = arg.indexOf("=");
    return arg.startsWith("--") && eq > 2 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg];
  });
}

export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParsedArgs {
  const args = normalise(argv);
  const globals: Record<string, string> = {};
  const rest: string[] = [];
  let commandStarted = false;
  let isPurge = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return { ok: true, command: { kind: "help" }, options: options({}, env) };
    const global = GLOBAL_FLAGS.has(arg) && !(isPurge && arg === "--url");
    if (global) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("--")) return { ok: false, error: `${arg} needs a value` };
      globals[arg] = value;
      i++;
      continue;
    }
    if (!commandStarted && !arg.startsWith("-")) {
      commandStarted = true;
      isPurge = arg === "purge";
    }
    rest.push(arg);
  }
  const opts = options(globals, env);
  if (!/^https?:\/\/[^/]/.test(opts.url)) return { ok: false, error: `--url must be an http(s) URL, got "${opts.url}"` };
  const command = parseCommand(rest);
  return "error" in command ? { ok: false, error: command.error } : { ok: true, command, options: opts };
}

function options(globals: Record<string, string>, env: Readonly<Record<string, string | undefined>>): CliOptions {
  // PORT is what `npm start` listens on, so `PORT=9000 npm start` and `PORT=9000 npm run cli` agree.
  const local = env.PORT !== undefined && env.PORT !== "" ? `http://127.0.0.1:${env.PORT}` : DEFAULT_URL;
  const url = (globals["--url"] ?? env.SHARDCACHE_URL ?? local).replace(/\/+$/, "");
  const prefix = globals["--admin-prefix"] ?? env.SHARDCACHE_ADMIN_PREFIX ?? DEFAULT_ADMIN_PREFIX;
  return { url, token: globals["--token"] ?? env.SHARDCACHE_TOKEN ?? DEFAULT_TOKEN, adminPrefix: `/${prefix.replace(/^\/+|\/+$/g, "")}` };
}

function parseCommand(args: readonly string[]): CliCommand | { error: string } {
  const [first, second, ...more] = args;
  switch (first) {
    case undefined:
      return { error: "no command given" };
    case "help":
      return { kind: "help" };
    case "health":
      return args.length === 1 ? { kind: "health" } : { error: `unexpected arguments after "health": ${args.slice(1).join(" ")}` };
    case "stats": {
      const extra = args.slice(1).filter((a) => a !== "--json");
      return extra.length === 0 ? { kind: "stats", json: args.includes("--json") } : { error: `unexpected arguments after "stats": ${extra.join(" ")}` };
    }
    case "top":
      return parseTop(args.slice(1));
    case "config": {
      if (second === "pull") return more.length === 0 ? { kind: "config-pull" } : { error: `unexpected arguments after "config pull": ${more.join(" ")}` };
      if (second === "history") {
        const extra = more.filter((a) => a !== "--json");
        return extra.length === 0 ? { kind: "config-history", json: more.includes("--json") } : { error: `unexpected arguments after "config history": ${extra.join(" ")}` };
      }
      if (second === "rollback") {
        const n = Number(more[0]);
        return more.length === 1 && Number.isInteger(n) && n >= 1 ? { kind: "config-rollback", version: n } : { error: '"config rollback" needs one version number (see "config history")' };
      }
      if (second === "diff") {
        const files = more.filter((a) => a !== "--json");
        if (files.length !== 1 || files[0]!.startsWith("-")) return { error: '"config diff" needs exactly one FILE' };
        return { kind: "config-diff", file: files[0]!, json: more.includes("--json") };
      }
      if (second === "validate" || second === "push") {
        if (more.length !== 1 || more[0]!.startsWith("-")) return { error: `"config ${second}" needs exactly one FILE` };
        return { kind: second === "validate" ? "config-validate" : "config-push", file: more[0]! };
      }
      return { error: second === undefined ? '"config" needs a subcommand: validate, push, pull, history, rollback or diff' : `unknown config subcommand "${second}" (validate, push, pull, history, rollback, diff)` };
    }
    case "purge":
      return parsePurge(args.slice(1));
    case "events":
      return parseEvents(args.slice(1));
    case "pool": {
      if (second !== "drain" && second !== "disable" && second !== "enable") return { error: '"pool" needs drain, disable or enable' };
      if (more.length !== 2) return { error: `"pool ${second}" needs POOL and NODE (the node's URL or index)` };
      return { kind: "node-state", action: second, pool: more[0]!, node: more[1]! };
    }
    case "rule": {
      if (second === "remove") return more.length === 1 ? { kind: "rule-remove", name: more[0]! } : { error: '"rule remove" needs one rule NAME' };
      if (second !== "add") return { error: '"rule" needs add or remove' };
      const [file, flag, value, ...extra] = more;
      if (file === undefined || file.startsWith("-")) return { error: '"rule add" needs a FILE' };
      if (flag === undefined) return { kind: "rule-add", file };
      const position = Number(value);
      if (flag !== "--position" || !Number.isInteger(position) || position < 0 || extra.length > 0) return { error: '"rule add FILE" takes only --position N (N >= 0)' };
      return { kind: "rule-add", file, position };
    }
    case "rates": {
      const extra = args.slice(1).filter((a) => a !== "--json");
      return extra.length === 0 ? { kind: "rates", json: args.includes("--json") } : { error: `unexpected arguments after "rates": ${extra.join(" ")}` };
    }
    default:
      return { error: `unknown command "${first}"` };
  }
}

function parseEvents(args: readonly string[]): CliCommand | { error: string } {
  const command: Extract<CliCommand, { kind: "events" }> = { kind: "events", json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--json") {
      command.json = true;
      continue;
    }
    const value = args[i + 1];
    if (arg !== "--since" && arg !== "--limit" && arg !== "--level") return { error: `unexpected events argument "${arg}"` };
    if (value === undefined || value.startsWith("--")) return { error: `events ${arg} needs a value` };
    i++;
    if (arg === "--level") {
      const level = value.toUpperCase();
      if (!(EVENT_LEVELS as readonly string[]).includes(level)) return { error: `events --level must be one of ${EVENT_LEVELS.join(", ")}` };
      command.level = level as EventLevelArg;
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < (arg === "--since" ? 0 : 1)) return { error: `events ${arg} needs a ${arg === "--since" ? "non-negative" : "positive"} integer` };
    if (arg === "--since") command.since = n;
    else command.limit = n;
  }
  return command;
}

function parsePurge(args: readonly string[]): CliCommand | { error: string } {
  const selectors: PurgeSelectorArg[] = [];
  let soft = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--soft") soft = true;
    else if (arg === "--all") selectors.push({ all: true });
    else if (PURGE_FLAGS.has(arg)) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("--")) return { error: `purge ${arg} needs a value` };
      selectors.push({ [arg.slice(2)]: value } as PurgeSelectorArg);
      i++;
    } else return { error: `unexpected purge argument "${arg}"` };
  }
  if (selectors.length !== 1) return { error: "purge needs exactly one of --url, --key, --prefix, --tag, --all" };
  return { kind: "purge", selector: selectors[0]!, soft };
}

function parseTop(args: readonly string[]): CliCommand | { error: string } {
  let intervalSeconds = 2;
  let count: number | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = Number(args[i + 1]);
    if (arg === "--interval" && Number.isFinite(value) && value >= 0.2 && value <= 3600) intervalSeconds = value;
    else if (arg === "--count" && Number.isInteger(value) && value > 0) count = value;
    else return { error: arg === "--interval" || arg === "--count" ? `top ${arg} needs a number (--interval 0.2…3600 seconds, --count ≥ 1)` : `unexpected top argument "${arg}"` };
    i++;
  }
  return { kind: "top", intervalSeconds, count };
}
