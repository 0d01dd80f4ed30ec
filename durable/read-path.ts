/**
 * The shard's read path: look the key up (memory, then SQLite), choose the variant (RFC 9111 §4.1),
 * decide whether the stored copy may be reused (§4.2, RFC 5861, refresh time / refresh-ahead), serve
 * it, and start the one background refresh a reuse asks for. Anything the store cannot answer goes to
 * the write path, with the call telling it why (`fwd`) and what stale copy it may fall back on.
 */
import type { EpochMillis } from "../src/lib/units";
import { evaluateReuse, forwardReasonFor, isRequestOnlyIfCached, refreshDecision, selectVariant, storedAnswers } from "../src/rfc9111";
import type { Outcome } from "../src/serve/outcome";
import type { InlineShardResult, ShardResult } from "../src/serve/shard-protocol";
import type { ShardCall } from "./shard-call";
import type { ShardState } from "./shard-state";
import type { StoredObject } from "./object-store";
import type { WritePath } from "./write-path";

export class ReadPath {
  constructor(
    private readonly shard: ShardState,
    private readonly write: WritePath,
  ) {}

  /** One request: the stored copy when it may be reused, else the write path (coalesced fetch, revalidation or pass). */
  handle(call: ShardCall): ShardResult | InlineShardResult | Promise<ShardResult> {
    const { shard } = this;
    const { ctx, req } = call;
    const now = shard.clock.now();
    const variants = shard.store.variants(ctx.key, now);
    const selected = variants.length > 0 ? selectVariant(variants, req) : undefined;
    // RFC 9111 §3.3: a stored part answers only a range wholly inside it; anything else is fetched in full.
    const partialMiss = selected !== undefined && !storedAnswers(selected.meta, req);
    const stored = partialMiss ? undefined : selected;
    if (stored === undefined) {
      call.fwd = partialMiss ? "partial" : variants.length > 0 ? "vary-miss" : "uri-miss";
    } else {
      const decision = evaluateReuse(stored.meta, req, now);
      const { ttlSeconds } = decision;
      const refresh = refreshDecision(stored.meta, decision, now, ctx.settings, shard.refreshes.get(ctx.key) ?? null);
      let outcome: Outcome | null = null;
      if (refresh.kind === "refresh-time") {
        if (refresh.refresh) this.#refreshInBackground(call, stored, now);
        outcome = { kind: "stale", why: "refresh-time", ttlSeconds };
      } else if (refresh.kind === "refresh-ahead") {
        this.#refreshInBackground(call, stored, now);
        outcome = { kind: "refresh-ahead", ttlSeconds };
      } else if (decision.kind === "stale-while-revalidate") {
        this.#revalidateInBackground(call, stored);
        outcome = { kind: "stale", why: "stale-while-revalidate", ttlSeconds };
      } else if (decision.kind === "stale-allowed") {
        outcome = { kind: "stale", why: "max-stale", ttlSeconds };
      } else if (decision.kind === "fresh") {
        outcome = { kind: "hit", ttlSeconds };
      }
      if (outcome !== null) {
        shard.counters.count("hits");
        return call.fromStore(stored, outcome, now);
      }
      call.fwd = forwardReasonFor(decision);
      call.stale = stored;
    }
    // RFC 9111 §5.2.1.7: only-if-cached never contacts the origin, not even to revalidate.
    if (isRequestOnlyIfCached(req)) return call.failed({ kind: "only-if-cached-miss" });
    return this.write.viaOrigin(call);
  }

  /** RFC 5861: serve stale now and refresh once in the background; a flight already open means one is running. */
  #revalidateInBackground(call: ShardCall, stored: StoredObject): void {
    if (this.shard.flights.has(call.ctx.key)) return;
    const background = this.write.lead(call.inBackground(stored)).then((result) => result.response.body?.cancel());
    this.shard.waitUntil(background.catch(() => {}));
  }

  /** Refresh time / refresh-ahead: one background revalidation, remembered so the next waits its interval. */
  #refreshInBackground(call: ShardCall, stored: StoredObject, now: EpochMillis): void {
    if (this.shard.flights.has(call.ctx.key)) return;
    this.shard.refreshes.set(call.ctx.key, now);
    this.#revalidateInBackground(call, stored);
  }
}
