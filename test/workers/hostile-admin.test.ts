/**
 * Hostile input at the admin API: near-miss admin paths are the admin API (their Authorization never
 * reaches the origin), a weak or published token keeps the API shut outside local dev, and repeated
 * failed logins from one address are refused for a while.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { DEV_ADMIN_TOKEN } from "../../src/lib/dev-token";
import { ADMIN_TOKEN } from "../helpers/admin";
import { originCount } from "../helpers/origin";

const BASE = "http://cache.test";
let address = 0;
/** A client address of its own, so each test's failed logins are its own. */
const nextAddress = () => `198.51.100.${(address = (address + 1) % 250) + 1}`;

/** The real worker with some variables replaced (a deployed worker with another ADMIN_TOKEN). */
async function withEnv(vars: Record<string, string | undefined>, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, { headers: { "cf-connecting-ip": nextAddress(), ...headers } }), { ...env, ...vars } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("admin token never reaches the origin", () => {
  it.each([
    ["a doubled slash", "//_shardcache/health"],
    ["an encoded underscore", "/%5Fshardcache/health"],
    ["a lower-case encoded underscore", "/%5fshardcache/health"],
    ["upper case", "/_SHARDCACHE/health"],
    ["mixed case", "/_ShardCache/config"],
    ["a dot segment", "/x/../_shardcache/health"],
    ["an encoded dot segment", "/x/%2e%2e/_shardcache/health"],
  ])("%s (%s) is answered by the admin API, with or without the token", async (_what, target) => {
    const path = `${target}?probe=${Date.now().toString(36)}${nextAddress()}`;
    for (const authorization of [`Bearer ${ADMIN_TOKEN}`, "Bearer wrong", null]) {
      const response = await SELF.fetch(`${BASE}${path}`, { headers: { ...(authorization === null ? {} : { authorization }), "cf-connecting-ip": nextAddress() } });
      expect(response.headers.get("content-type"), `${path} ${authorization}`).toMatch(/application\/json/);
      expect(await response.text()).not.toContain("demo origin");
    }
    expect(await originCount(path)).toBe(0);
    expect(await originCount(path.replace(/\/{2,}/g, "/"))).toBe(0);
  });
});

describe("weak tokens outside local dev", () => {
  it.each([
    ["one character", "x", /shorter than 32 characters/],
    ["31 characters", "a".repeat(31), /shorter than 32 characters/],
    ["the published development token", DEV_ADMIN_TOKEN, /published development token/],
  ])("%s: the admin API refuses with a clear message, even to a request that sends it", async (_what, token, message) => {
    const response = await withEnv({ ADMIN_TOKEN: token, SHARDCACHE_LOCAL_DEV: undefined }, "/_shardcache/health", { authorization: `Bearer ${token}` });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it("in local dev (SHARDCACHE_LOCAL_DEV=true, set by npm start) the development token opens it", async () => {
    const response = await withEnv({ ADMIN_TOKEN: DEV_ADMIN_TOKEN, SHARDCACHE_LOCAL_DEV: "true" }, "/_shardcache/health", { authorization: `Bearer ${DEV_ADMIN_TOKEN}` });
    expect(response.status).toBe(200);
  });

  it("a strong token opens it outside local dev", async () => {
    const response = await SELF.fetch(`${BASE}/_shardcache/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-connecting-ip": nextAddress() } });
    expect(response.status).toBe(200);
  });
});

describe("failed logins are slowed", () => {
  it("after 5 failures from one address it is refused (429 + Retry-After), even with the right token; other addresses are not", async () => {
    const attacker = nextAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await SELF.fetch(`${BASE}/_shardcache/health`, { headers: { authorization: `Bearer guess-${i}`, "cf-connecting-ip": attacker } });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    const locked = await SELF.fetch(`${BASE}/_shardcache/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-connecting-ip": attacker } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const bystander = await SELF.fetch(`${BASE}/_shardcache/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-connecting-ip": nextAddress() } });
    expect(bystander.status).toBe(200);
  });
});
