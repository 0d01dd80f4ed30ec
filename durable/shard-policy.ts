/**
 * The small decisions the shard makes around the RFC 9111 policy: the limits it enforces, which
 * refusals are the response's fault (and so worth hit-for-pass), and rule-driven header edits.
 */
import { buildStoredMeta } from "../src/rfc9111";
import type { NotStorableReason, RequestLike, StoreLimits, StoredMeta, StoreVerdict } from "../src/rfc9111/types";
import type { ShardRequestContext, ShardSettings } from "../src/serve/shard-protocol";

/** Selecting header bytes per variant: beyond this a Vary'd response is not worth storing. */
const MAX_VARY_BYTES = 4096;
/** Heuristic freshness never exceeds a day, however old Last-Modified is. */
const MAX_HEURISTIC_SECONDS = 86_400;

export function limitsFor(settings: ShardSettings): StoreLimits {
  return { maxObjectBytes: settings.maxObjectBytes, maxVaryBytes: MAX_VARY_BYTES, maxHeuristicSeconds: MAX_HEURISTIC_SECONDS, maxLifetimeSeconds: settings.maxTtlSeconds };
}

/** Refusals caused by the request say nothing about the next request for the key: no hit-for-pass for them. */
export function isResponseCaused(reason: NotStorableReason): boolean {
  return !["method", "request-body", "request-no-store", "authorization"].includes(reason.code);
}

/** The request a store decision is about: the policy's view of it (a HEAD as the GET it was fetched as) and the edge's context. */
export interface StoreTarget {
  req: RequestLike;
  ctx: ShardRequestContext;
}

/** The record to store for `response`, with the rule's extra tags merged into the origin's. */
export function buildMeta(target: StoreTarget, response: Response, facts: { timing: { requestTime: number; responseTime: number }; verdict: Extract<StoreVerdict, { store: true }>; contentLength: number | null }): StoredMeta {
  const { ctx } = target;
  const meta = buildStoredMeta(target.req, response, facts.timing, facts.verdict, { limits: limitsFor(ctx.settings), bodyBytes: facts.contentLength ?? 0, ...(ctx.overrides ? { overrides: ctx.overrides } : {}) });
  if (ctx.tags === undefined || ctx.tags.length === 0) return meta;
  return { ...meta, tags: [...new Set([...meta.tags, ...ctx.tags])] };
}

/**
 * Applies a rule's response header edits, before the cacheability test sees the response: removals
 * first, then sets, so a header named in both ends up with the rule's value (remove-then-set is how a rule
 * replaces a header). The input is never modified: it may belong to a response that is already shared.
 */
export function withResponseHeaderEdits(response: Response, edits: ShardRequestContext["responseHeaders"]): Response {
  if (edits === undefined || (Object.keys(edits.set ?? {}).length === 0 && (edits.remove ?? []).length === 0)) return response;
  const headers = new Headers(response.headers);
  for (const name of edits.remove ?? []) headers.delete(name);
  for (const [name, value] of Object.entries(edits.set ?? {})) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export function originHost(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}
