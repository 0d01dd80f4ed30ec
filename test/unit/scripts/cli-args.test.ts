import { describe, expect, it } from "vitest";
import { DEFAULT_TOKEN, DEFAULT_URL, parseCliArgs } from "../../../scripts/cli-args";

const ok = (argv: string[], env = {}) => {
  const parsed = parseCliArgs(argv, env);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed;
};
const error = (argv: string[]) => {
  const parsed = parseCliArgs(argv);
  return parsed.ok ? null : parsed.error;
};

describe("parseCliArgs", () => {
  it("defaults to local dev", () => {
    expect(ok(["top"]).command).toEqual({ kind: "top", intervalSeconds: 2, count: null });
    expect(ok(["top", "--interval=0.5", "--count", "3"]).command).toEqual({ kind: "top", intervalSeconds: 0.5, count: 3 });
    expect(ok(["stats"]).options).toEqual({ url: DEFAULT_URL, token: DEFAULT_TOKEN, adminPrefix: "/_shardcache" });
  });

  it("takes the worker from env, and flags over env", () => {
    const env = { SHARDCACHE_URL: "https://env.example/", SHARDCACHE_TOKEN: "envtok", SHARDCACHE_ADMIN_PREFIX: "ops/" };
    expect(ok(["stats"], env).options).toEqual({ url: "https://env.example", token: "envtok", adminPrefix: "/ops" });
    expect(ok(["--url", "https://flag.example", "--token=flagtok", "stats"], env).options).toMatchObject({ url: "https://flag.example", token: "flagtok" });
  });

  it("follows PORT for local dev (as npm start does), and SHARDCACHE_URL over PORT", () => {
    expect(ok(["stats"], { PORT: "48787" }).options.url).toBe("http://127.0.0.1:48787");
    expect(ok(["stats"], { PORT: "48787", SHARDCACHE_URL: "https://env.example" }).options.url).toBe("https://env.example");
    expect(ok(["stats"], { PORT: "" }).options.url).toBe(DEFAULT_URL);
  });

  it("parses events and rates", () => {
    expect(ok(["events"]).command).toEqual({ kind: "events", json: false });
    expect(ok(["events", "--since", "12", "--limit=5", "--level", "warning", "--json"]).command).toEqual({ kind: "events", since: 12, limit: 5, level: "WARNING", json: true });
    expect(ok(["rates", "--json"]).command).toEqual({ kind: "rates", json: true });
    expect(error(["events", "--level", "LOUD"])).toMatch(/--level must be one of/);
    expect(error(["events", "--limit", "0"])).toMatch(/positive integer/);
    expect(error(["events", "--since"])).toMatch(/needs a value/);
    expect(error(["rates", "x"])).toMatch(/unexpected arguments/);
  });

  it("parses history, rollback, diff, pool and rule commands", () => {
    expect(ok(["config", "history", "--json"]).command).toEqual({ kind: "config-history", json: true });
    expect(ok(["config", "rollback", "3"]).command).toEqual({ kind: "config-rollback", version: 3 });
    expect(ok(["config", "diff", "c.json"]).command).toEqual({ kind: "config-diff", file: "c.json", json: false });
    expect(ok(["pool", "disable", "web", "1"]).command).toEqual({ kind: "node-state", action: "disable", pool: "web", node: "1" });
    expect(ok(["rule", "add", "r.json"]).command).toEqual({ kind: "rule-add", file: "r.json" });
    expect(ok(["rule", "remove", "static"]).command).toEqual({ kind: "rule-remove", name: "static" });
    expect(error(["config", "rollback", "x"])).toMatch(/version number/);
    expect(error(["config", "rollback", "0"])).toMatch(/version number/);
    expect(error(["pool", "drain", "web"])).toMatch(/POOL and NODE/);
    expect(error(["pool", "explode", "web", "0"])).toMatch(/drain, disable or enable/);
    expect(error(["rule", "add", "r.json", "--position", "-1"])).toMatch(/--position N/);
  });

  it("parses the config commands", () => {
    expect(ok(["config", "validate", "c.json"]).command).toEqual({ kind: "config-validate", file: "c.json" });
    expect(ok(["--url", "https://w.example", "config", "push", "c.json"]).command).toEqual({ kind: "config-push", file: "c.json" });
    expect(ok(["config", "pull"]).command).toEqual({ kind: "config-pull" });
  });

  it("reads --url after purge as the URL to purge, and before it as the worker", () => {
    const parsed = ok(["--url", "https://worker.example", "purge", "--url", "https://site.example/a", "--soft"]);
    expect(parsed.options.url).toBe("https://worker.example");
    expect(parsed.command).toEqual({ kind: "purge", selector: { url: "https://site.example/a" }, soft: true });
    expect(ok(["purge", "--prefix", "https://s/img/"]).command).toEqual({ kind: "purge", selector: { prefix: "https://s/img/" }, soft: false });
    expect(ok(["purge", "--tag=blue"]).command).toEqual({ kind: "purge", selector: { tag: "blue" }, soft: false });
    expect(ok(["purge", "--all"]).command).toEqual({ kind: "purge", selector: { all: true }, soft: false });
    expect(ok(["purge", "--all", "--token", "t"]).options.token).toBe("t");
  });

  it("reports usage errors", () => {
    expect(error([])).toMatch(/no command/);
    expect(error(["frobnicate"])).toMatch(/unknown command "frobnicate"/);
    expect(error(["config"])).toMatch(/subcommand/);
    expect(error(["config", "push"])).toMatch(/exactly one FILE/);
    expect(error(["config", "validate", "a", "b"])).toMatch(/exactly one FILE/);
    expect(error(["purge"])).toMatch(/exactly one of/);
    expect(error(["purge", "--all", "--tag", "x"])).toMatch(/exactly one of/);
    expect(error(["purge", "--tag"])).toMatch(/needs a value/);
    expect(error(["purge", "--bogus"])).toMatch(/unexpected purge argument/);
    expect(error(["--url", "ftp://x", "stats"])).toMatch(/http\(s\) URL/);
    expect(error(["--token"])).toMatch(/needs a value/);
    expect(error(["stats", "extra"])).toMatch(/unexpected arguments/);
    expect(error(["top", "--interval", "0"])).toMatch(/needs a number/);
    expect(error(["top", "--count", "x"])).toMatch(/needs a number/);
    expect(error(["top", "now"])).toMatch(/unexpected top argument/);
  });
});
