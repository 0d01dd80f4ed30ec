import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema, SCHEMA_PATH } from "../../../scripts/gen-json-schema";
import { validateConfigFile } from "../../../scripts/validate-config";
import { defaultConfigDocument, parseConfig, type ConfigError } from "../../../src/config/document";
import { defaultSettings } from "../../../src/config/settings";
import { req } from "../rules/helpers";

function errorsOf(input: unknown): ConfigError[] {
  const result = parseConfig(input);
  if (result.ok) throw new Error("expected the config to be refused");
  return result.error;
}

const rule = (overrides: Record<string, unknown> = {}) => ({ match: {}, actions: {}, ...overrides });

describe("defaults", () => {
  it("an empty document is default settings and no rules", () => {
    const result = parseConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.settings).toEqual(defaultSettings);
    expect(result.value.settings.shards).toHaveLength(16);
    expect(result.value).toMatchObject({ rules: [], pools: {}, monitors: {}, rateClasses: {}, slmClasses: {} });
    expect(result.value.compiledRules.size).toBe(0);
    expect(defaultConfigDocument.settings).toEqual(defaultSettings);
  });
  it("fills unset settings with their defaults and expands a shard count", () => {
    const result = parseConfig({ settings: { shards: 3, verbose: true } });
    expect(result.ok && result.value.settings).toMatchObject({
      verbose: true,
      trace: false,
      primaries: 1,
      shards: [
        { name: "shard-0", weight: 1 },
        { name: "shard-1", weight: 1 },
        { name: "shard-2", weight: 1 },
      ],
    });
  });
});

describe("errors carry exact paths", () => {
  it("reports every error, not just the first", () => {
    const errors = errorsOf({
      settings: { primaries: 0, trace: "yes" },
      rules: [
        rule(),
        rule({ match: { path: { regex: "(" } } }),
        rule(),
        rule({ match: { path: "static/**", clientIp: ["10.0.0.0/8", "10.0.0.1/8"], headers: { "bad name": true } }, actions: { ttl: -5, cacheKey: { query: { include: "a" } } } }),
      ],
    });
    expect(errors.map((e) => e.path)).toEqual([
      "settings.primaries",
      "settings.trace",
      "rules[1].match.path.regex",
      "rules[3].match.path",
      'rules[3].match.headers["bad name"]',
      "rules[3].match.clientIp[1]",
      "rules[3].actions.ttl",
      "rules[3].actions.cacheKey.query.include",
    ]);
    expect(errors[2]!.message).toMatch(/not a linear-time \(RE2\) regular expression/);
    expect(errors[5]!.message).toMatch(/host bits/);
  });
  it("refuses unknown keys at every level, one error per key", () => {
    const errors = errorsOf({
      settigns: {},
      settings: { verbsoe: true, shards: [{ name: "a", wieght: 2 }] },
      rules: [rule({ match: { pth: "/x" }, actions: { tll: 5, cacheKey: { qurey: "ignore" } }, contineu: true })],
    });
    expect(errors).toEqual([
      { path: "settings.shards[0].wieght", message: "unknown key" },
      { path: "settings.verbsoe", message: "unknown key" },
      { path: "rules[0].match.pth", message: "unknown key" },
      { path: "rules[0].actions.cacheKey.qurey", message: "unknown key" },
      { path: "rules[0].actions.tll", message: "unknown key" },
      { path: "rules[0].contineu", message: "unknown key" },
      { path: "settigns", message: "unknown key" },
    ]);
  });
  it("names the branch a union value was aiming at, or says what was expected", () => {
    expect(errorsOf({ rules: [rule({ match: { path: { glob: 5 } } })] }).map((e) => e.path)).toEqual(["rules[0].match.path.glob"]);
    expect(errorsOf({ rules: [rule({ match: { host: ["a.test", "http://b.test"] } })] }).map((e) => e.path)).toEqual(["rules[0].match.host[1]"]);
    expect(errorsOf({ rules: [rule({ match: { query: { a: 1 } } })] })).toEqual([{ path: "rules[0].match.query.a", message: 'expected true (present), false (absent), an exact string, { "exact": … }, { "glob": … } or { "regex": … }' }]);
    expect(errorsOf({ rules: [rule({ actions: { rateClass: { name: "r", context: "cookie" } } })] })[0]!.path).toBe("rules[0].actions.rateClass.context");
  });
  it("checks rule names and references across the document, alongside schema errors", () => {
    const errors = errorsOf({
      pools: { web: { nodes: [{ url: "https://web.example" }] } },
      rateClasses: { api: { perSecond: 10 } },
      rules: [rule({ name: "a", actions: { pool: "web" } }), rule({ name: "a", actions: { pool: "db", ttl: "x", rateClass: { name: "apii" }, slmClass: "gold" } }), rule({ name: "b" }), rule({ name: "b" })],
    });
    expect(errors).toEqual([
      { path: "rules[1].actions.ttl", message: expect.any(String) },
      { path: "rules[1].name", message: 'duplicate rule name "a" (first used by rules[0])' },
      { path: "rules[1].actions.pool", message: 'unknown pool "db" (pools: web)' },
      { path: "rules[1].actions.rateClass.name", message: 'unknown rate class "apii" (rateClasses: api)' },
      { path: "rules[1].actions.slmClass", message: 'unknown SLM class "gold" (no slmClasses are configured)' },
      { path: "rules[3].name", message: 'duplicate rule name "b" (first used by rules[2])' },
    ]);
  });
  it("checks the SLM classes a rule's match names", () => {
    expect(errorsOf({ slmClasses: { gold: { targetMs: 200 } }, rules: [rule({ match: { slm: { gold: "serious", silver: ["warning"] } } })] })).toEqual([
      { path: "rules[0].match.slm.silver", message: 'unknown SLM class "silver" (slmClasses: gold)' },
    ]);
  });
  it("checks references also when the section they name is empty or absent", () => {
    expect(errorsOf({ settings: { defaultPool: "web" }, rules: [rule({ name: "r", actions: { pool: "web", rateClass: { name: "api" } } })], rateClasses: {} })).toEqual([
      { path: "settings.defaultPool", message: 'unknown pool "web" (no pools are configured)' },
      { path: "rules[0].actions.pool", message: 'unknown pool "web" (no pools are configured)' },
      { path: "rules[0].actions.rateClass.name", message: 'unknown rate class "api" (no rateClasses are configured)' },
    ]);
    expect(parseConfig({ settings: { defaultPool: "web" }, pools: { web: { nodes: [{ url: "https://web.example" }] } } }).ok).toBe(true);
  });
  it("reports pool and monitor errors with document paths, including monitors a pool names but nobody defines", () => {
    expect(errorsOf({ pools: { web: { nodes: [{ url: "https://a.example" }, { url: "nope" }] } } }).map((e) => e.path)).toEqual(["pools.web.nodes[1].url"]);
    expect(errorsOf({ pools: { web: { nodes: [{ url: "https://a.example" }], monitors: ["http", "tcp"] } }, monitors: { http: {} } })).toEqual([{ path: "pools.web.monitors[1]", message: 'no monitor named "tcp"' }]);
  });
  it("reports a document that is not an object at the root", () => {
    expect(errorsOf([])).toEqual([{ path: "(root)", message: expect.stringContaining("expected object") }]);
    expect(errorsOf(null)[0]!.path).toBe("(root)");
  });
  it("refuses bad placeholders in key templates, bad countries and header values with CR/LF", () => {
    const errors = errorsOf({
      rules: [rule({ match: { country: "NLD" }, actions: { cacheKey: { custom: "${host}${cookie}" }, setResponseHeaders: { "x-a": "1\r\nx-b: 2" } } })],
    });
    expect(errors.map((e) => e.path)).toEqual(["rules[0].match.country", 'rules[0].actions.setResponseHeaders["x-a"]', "rules[0].actions.cacheKey.custom"]);
  });
});

describe("a valid full example", () => {
  const full = {
    $schema: "../config.schema.json",
    version: 7,
    settings: { shards: [{ name: "east", weight: 2 }, { name: "west" }], primaries: 2, verbose: true },
    pools: { web: { nodes: [{ url: "http://10.0.0.1:8080" }], monitors: ["http"] } },
    monitors: { http: { path: "/health" } },
    rateClasses: { api: { perSecond: 10 } },
    slmClasses: { gold: { targetMs: 200 } },
    rules: [
      { name: "admin", match: { host: ["example.com", "*.example.com"], path: "/admin/**" }, actions: { pass: true } },
      { name: "tag-all", continue: true, match: {}, actions: { tags: ["site"], removeResponseHeaders: ["x-powered-by"] } },
      {
        name: "api",
        match: { path: { regex: "^/api/" }, method: ["GET", "HEAD"], query: { nocache: false }, headers: { authorization: false }, cookies: { session: false }, clientIp: ["10.0.0.0/8", "2001:db8::/32"], country: ["NL", "DE"] },
        actions: {
          ttl: 60,
          edgeTtl: 10,
          staleWhileRevalidate: 30,
          staleIfError: 600,
          setResponseHeaders: { "cache-control": "public, max-age=60" },
          cacheKey: { query: { exclude: ["utm_source"] }, headers: ["accept-language"], cookies: ["ab"] },
          tags: ["api"],
          pool: "web",
          rateClass: { name: "api", context: { header: "x-api-key" } },
          slmClass: "gold",
          skipSharding: false,
        },
      },
      { name: "custom-key", match: { path: { glob: "/img/**" } }, actions: { cacheKey: { custom: "${host}${path}?w=${query.w}" }, rateClass: { name: "api", context: "ip" } } },
    ],
  };
  it("parses, normalises and compiles", () => {
    const result = parseConfig(full);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    const doc = result.value;
    expect(doc.settings.shards).toEqual([
      { name: "east", weight: 2 },
      { name: "west", weight: 1 },
    ]);
    expect(doc.rules).toHaveLength(4);
    expect(doc.compiledRules.evaluate(req("https://www.example.com/admin/x")).matched).toEqual(["admin"]);
    const api = doc.compiledRules.evaluate(req("https://example.com/api/v1", { clientIp: "10.1.1.1", country: "NL" }));
    expect(api.matched).toEqual(["tag-all", "api"]);
    expect(api.actions.tags).toEqual(["site", "api"]);
  });
});

describe("scripts", () => {
  it("config/default.json validates and says what the issue asked for", async () => {
    expect(await validateConfigFile("config/default.json")).toEqual({ ok: true, errors: [] });
    const result = parseConfig(JSON.parse(await readFile("config/default.json", "utf8")));
    if (!result.ok) throw new Error("default config invalid");
    const { settings, compiledRules } = result.value;
    expect(settings).toMatchObject({ primaries: 1, verbose: true, trace: true });
    expect(settings.shards).toHaveLength(16);
    expect(compiledRules.evaluate(req("https://h/admin")).actions.pass).toBe(true);
    expect(compiledRules.evaluate(req("https://h/api/x", { method: "POST" })).actions.pass).toBe(true);
    expect(compiledRules.evaluate(req("https://h/static/app.js")).actions).toEqual({ ttl: 300, tags: ["static"] });
  });
  it("validateConfigFile reports unreadable files, bad JSON and schema errors as errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shardcache-config-"));
    await writeFile(join(dir, "bad.json"), "{ nope");
    await writeFile(join(dir, "invalid.json"), JSON.stringify({ settings: { verbose: 1 } }));
    expect((await validateConfigFile(join(dir, "missing.json"))).errors[0]!.message).toMatch(/cannot read/);
    expect((await validateConfigFile(join(dir, "bad.json"))).errors[0]!.message).toMatch(/not valid JSON/);
    expect(await validateConfigFile(join(dir, "invalid.json"))).toEqual({ ok: false, errors: [{ path: "settings.verbose", message: expect.any(String) }] });
  });
  it("config.schema.json is up to date with the zod schema (run `npx tsx scripts/gen-json-schema.ts`)", async () => {
    expect(JSON.parse(await readFile(SCHEMA_PATH, "utf8"))).toEqual(configJsonSchema());
  });
});
