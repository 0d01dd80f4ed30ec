/**
 * Purge in one round. Shards first, because they are authoritative: once every shard concerned has
 * dropped (or, soft, made stale) the matching entries, no edge can fetch the old object again. Then
 * the edge tier: a record in the KV purge log (every edge refuses copies stored before it, within the
 * config memo period plus KV propagation), this data centre's own copy for URL/key purges, and, with
 * credentials, the zone purge API.
 */
import * as z from "zod";
import type { PurgeTarget, ShardPurgeResult } from "../../durable/shard-purge";
import type { ConfigDocument } from "../config/document";
import { zodIssuesToErrors, type ConfigError } from "../config/errors";
import type { PurgeMatch, PurgeRecord } from "../edge/purge-log";
import type { ZonePurgeOutcome, ZonePurger } from "../edge/zone-purge";
import { err, ok, type Result } from "../lib/result";
import type { EpochMillis } from "../lib/units";
import type { Hrw } from "../routing/hrw";
import { cacheKeyOfGet, PLAIN_GET } from "../rules/cache-key";

export type PurgeSelector = { url: string } | { key: string } | { prefix: string } | { tag: string } | { all: true };
export interface PurgeRequest {
  selector: PurgeSelector;
  soft: boolean;
}

const SELECTORS = ["url", "key", "prefix", "tag", "all"] as const;

const purgeBodySchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }).optional(),
  key: z.string().min(1).optional(),
  prefix: z
    .string()
    .regex(/^[a-z][a-z0-9+.-]*:\/\//i, 'must be a cache-key prefix starting with the scheme, such as "https://example.com/images/"')
    .optional(),
  tag: z.string().min(1).max(1024).optional(),
  all: z.literal(true, { message: "must be true" }).optional(),
  soft: z.boolean().optional(),
});

/** Validates a purge request body: exactly one of url, key, prefix, tag, all; optional soft. */
export function parsePurgeRequest(raw: unknown): Result<PurgeRequest, ConfigError[]> {
  const parsed = purgeBodySchema.safeParse(raw);
  if (!parsed.success) return err(zodIssuesToErrors(parsed.error.issues));
  const body = parsed.data;
  const given = SELECTORS.filter((name) => body[name] !== undefined);
  if (given.length !== 1) {
    const message = given.length === 0 ? "give exactly one of url, key, prefix, tag, all" : `give exactly one of url, key, prefix, tag, all (got ${given.join(", ")})`;
    return err([{ path: "(root)", message }]);
  }
  const name = given[0]!;
  const selector = (name === "all" ? { all: true } : { [name]: body[name] }) as PurgeSelector;
  return ok({ selector, soft: body.soft ?? false });
}

export interface PurgeDeps {
  config: ConfigDocument;
  hrw: Hrw;
  /** The shard named `name` (a CacheShard stub). */
  shard(name: string): { purge(target: PurgeTarget, soft: boolean): Promise<ShardPurgeResult> };
  /** Appends to the KV purge log. */
  writeRecord(record: PurgeRecord): Promise<void>;
  /** Applies the record to this isolate's purge index at once. */
  noteLocally(record: PurgeRecord): void;
  /** Drops this data centre's edge copy of a key. */
  deleteLocalEdgeCopy(key: string): Promise<void>;
  /** Null when CF_API_TOKEN / CF_ZONE_ID are not both set. */
  zone: ZonePurger | null;
  now(): EpochMillis;
}

export interface PurgeResult {
  ok: boolean;
  /** When the shards had finished: edge copies asked for before this are refused. */
  at: EpochMillis;
  selector: PurgeSelector;
  soft: boolean;
  /** The cache key a URL purge resolved to. */
  key?: string;
  shards: { purged: number; failed: number; each: ({ shard: string; purged: number } | { shard: string; error: string })[] };
  edge: { logged: boolean; logError?: string; zone: ZonePurgeOutcome | { status: "skipped"; reason: string } };
}

export async function runPurge(request: PurgeRequest, deps: PurgeDeps): Promise<PurgeResult> {
  const { selector, soft } = request;
  const settings = deps.config.settings;
  let match: PurgeMatch;
  let target: PurgeTarget;
  let shardNames: string[];
  if ("url" in selector || "key" in selector) {
    const key = "url" in selector ? cacheKeyOfGet(selector.url, PLAIN_GET, deps.config.compiledRules).key : selector.key;
    match = "url" in selector ? { key, url: selector.url } : { key };
    target = { keys: [key] };
    // The owners, plus the fallback shards that may have stored the key while an owner was failing.
    shardNames = deps.hrw.rank(key, settings.primaries + settings.fallback).map((s) => s.name);
  } else {
    match = selector;
    target = selector;
    shardNames = settings.shards.map((s) => s.name);
  }

  const each = await Promise.all(
    shardNames.map(async (shard): Promise<{ shard: string; purged: number } | { shard: string; error: string }> => {
      try {
        return { shard, purged: (await deps.shard(shard).purge(target, soft)).purged };
      } catch (error) {
        return { shard, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const at = deps.now();
  const record: PurgeRecord = { at, ...match, ...(soft ? { soft: true } : {}) };
  deps.noteLocally(record);
  let logError: string | undefined;
  try {
    await deps.writeRecord(record);
  } catch (error) {
    logError = error instanceof Error ? error.message : String(error);
  }
  if ("key" in match) await deps.deleteLocalEdgeCopy(match.key).catch(() => {});
  const zone = deps.zone === null ? { status: "skipped" as const, reason: "CF_API_TOKEN and CF_ZONE_ID are not both set" } : await deps.zone.purge(match);

  const failed = each.filter((e) => "error" in e).length;
  return {
    ok: failed === 0 && logError === undefined,
    at,
    selector,
    soft,
    ...("key" in match && "url" in selector ? { key: match.key } : {}),
    shards: { purged: each.reduce((sum, e) => sum + ("purged" in e ? e.purged : 0), 0), failed, each },
    edge: { logged: logError === undefined, ...(logError !== undefined ? { logError } : {}), zone },
  };
}
