/**
 * The cache shards as a test sees them: a shard's stub by name, the shards the edge picks for a path
 * (the default settings: 16 shards, one primary), and the positive signal that a shard's background
 * work is done, which a test waits for instead of sleeping.
 */
import { env } from "cloudflare:test";
import { defaultSettings } from "../../src/config/settings";
import { createHrw } from "../../src/routing/hrw";
import { defaultCacheKey } from "../../src/rules/cache-key";
import { BASE } from "./http";
import { eventually } from "./wait";

export function shardStub(name: string) {
  return env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(name));
}

const defaultHrw = createHrw(defaultSettings.shards);

/** The shards the edge tries for `path` under the default settings, in HRW order (the primary first). */
export function shardOrder(path: string, count = 1, base = BASE): string[] {
  return defaultHrw.rank(defaultCacheKey(new URL(`${base}${path}`)), count).map((shard) => shard.name);
}

/** The shard that owns `path` under the default settings. */
export function primaryShardOf(path: string, base = BASE): string {
  return shardOrder(path, 1, base)[0]!;
}

/**
 * Waits until shard `name` has no origin fetch open (`stats().inFlight`). A shard opens a fetch's
 * flight before it answers — a miss, and a background refresh or revalidation alike — and closes it in
 * the same step as the store write once the body has ended (durable/write-path.ts), so afterwards
 * everything those fetches were going to store is stored, and a background fetch that must not happen
 * would have been seen by the origin. Throws when the shard does not settle within `withinMs`.
 */
export async function untilIdle(name: string, withinMs = 3_000): Promise<void> {
  if (!(await eventually(async () => (await shardStub(name).stats()).inFlight === 0, withinMs))) throw new Error(`shard ${name} still had an origin fetch open after ${withinMs} ms`);
}
