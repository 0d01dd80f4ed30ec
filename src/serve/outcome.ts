/**
 * Every way a request can end, at either tier, as one discriminated union (`Outcome`), and the one
 * renderer that turns an outcome into everything that reports it: the tier's Cache-Status member
 * (RFC 9211), the X-Cache-Info line, the word in X-Cluster-Trace and the counters' outcome label.
 * A call site says what happened; it never spells a header. A new outcome is one case in the union
 * and one case in `renderOutcome` (the switch is exhaustive, so the compiler asks for it).
 *
 * Pure: types and pure functions only (it sits in src/serve because an origin failure's text,
 * `describeFailure`, lives there), unit-tested case by case in test/unit/serve/outcome.test.ts.
 */
import type { OriginFailure } from "../origin/fetch-origin";
import { edgeOutcomeOf, type EdgeOutcome, type ShardOutcome } from "../observe/outcomes";
import { renderCacheStatus } from "../rfc9111/cache-status";
import { cacheInfo, reasonText } from "../rfc9111/reasons";
import type { CacheOutcome, ForwardReason, NotStorableReason } from "../rfc9111/types";
import { describeFailure } from "./origin-failure";

/** The tier that renders: it names its Cache-Status member and picks the counters' label set. */
export type Tier = "edge" | "shard";

/** What the origin did wrong: no usable answer, or a 5xx that a usable stored copy outranks. */
export type OriginProblem = OriginFailure | { kind: "status"; status: number };

/** Why a request went to the origin with nothing stored, and (at the edge) by which route. */
export type PassReason =
  /** Shard: the key's last response was not storable, so it skips coalescing for a while. */
  | { why: "hit-for-pass" }
  /** Shard: the request waited `collapseTimeoutMs` for another's origin fetch and then made its own. */
  | { why: "collapse-timeout" }
  /** Shard: the fetch it waited for turned out not shareable with it (not stored, another variant, a range outside it). */
  | { why: "collapse-released" }
  /** Edge: a cache rule says pass. */
  | { why: "rule"; rules: readonly string[] }
  /** Edge: an unsafe method, sent on untouched (RFC 9111 §4.4). */
  | { why: "method"; method: string }
  /** Edge: a WebSocket upgrade the origin refused. */
  | { why: "websocket" }
  /** Edge: a rule says skip sharding: the edge fetched from the origin itself. */
  | { why: "skip-sharding" }
  /** Edge: no shard answered, so the edge fetched from the origin itself. */
  | { why: "shards-unavailable" };

/** Everything a stale answer can be granted by (RFC 5861, RFC 9111 §4.2.4, §5.2.1.2, `refreshTimeSeconds`). */
export type StaleGrant = "refresh-time" | "stale-while-revalidate" | "max-stale";

export type Outcome =
  /** Fresh from this tier's store. */
  | { kind: "hit"; ttlSeconds: number }
  /** Fresh from the store, while one background request refreshes it ahead of expiry. */
  | { kind: "refresh-ahead"; ttlSeconds: number }
  /** Stale from the store, as one grant allows (`ttlSeconds` is negative). */
  | { kind: "stale"; why: StaleGrant; ttlSeconds: number }
  /** Stale from the store because the origin failed (RFC 5861 §4, or within grace). */
  | { kind: "stale-on-error"; why: "grace" | "stale-if-error" }
  /** Fetched from the origin and being stored while it streams; `sizeKnown`: a Content-Length that fits. */
  | { kind: "stored"; fwd: ForwardReason; fwdStatus: number; ttlSeconds: number; sizeKnown: boolean }
  /** The stored copy was validated by the origin with 304 and served (RFC 9111 §4.3.4). */
  | { kind: "revalidated"; fwd: ForwardReason }
  /**
   * Answered from another request's work: its origin fetch (shard, streamed while stored), its
   * revalidation (shard), or the copy its shard call shared (edge single-flight).
   */
  | { kind: "collapsed"; fwd: ForwardReason; onto: "fetch"; sizeKnown: boolean }
  | { kind: "collapsed"; fwd: ForwardReason; onto: "revalidation" | "shared-copy" }
  /** Edge: a shard answered; `storedAtEdge` whether the edge keeps a copy (undefined: not known yet). */
  | { kind: "from-shard"; fwd: ForwardReason; storedAtEdge: boolean | undefined }
  /** Fetched from the origin, refused by canStore. */
  | { kind: "not-stored"; fwd: ForwardReason; fwdStatus: number; reason: NotStorableReason }
  /** Sent to the origin without trying to store (see PassReason). */
  | ({ kind: "passed"; fwd: ForwardReason; fwdStatus: number } & PassReason)
  /** The origin gave no usable answer and nothing stored may stand in; at the edge, `route` is the way it was asked. */
  | { kind: "origin-failed"; fwd: ForwardReason; failure: OriginProblem; route?: PassReason }
  /** only-if-cached and nothing usable stored: 504 (RFC 9111 §5.2.1.7). */
  | { kind: "only-if-cached-miss" }
  /** Edge: the rule's rate class said no (429). */
  | { kind: "rate-limited"; rateClass: string }
  /** Edge: a rule's request action answered (redirect, deny, or a redirect / rewrite refused as unsafe); no origin request. */
  | { kind: "rule-answered"; action: "redirect" | "deny" | "refused"; rules: readonly string[]; status: number };

/** A Cache-Status member without its cache name (the tier adds it). */
export type Member = Omit<CacheOutcome, "cache">;

/** The shard's trace words; each is also a counters' label (SHARD_LABEL). */
export type ShardWord = "HIT" | "MISS" | "STALE" | "REVALIDATED" | "COLLAPSED" | "PASS" | "ERROR";

/** What the counters count each shard word as (src/observe/outcomes.ts). */
export const SHARD_LABEL: Record<ShardWord, ShardOutcome> = { HIT: "hit", MISS: "miss", STALE: "stale", REVALIDATED: "revalidated", COLLAPSED: "coalesced", PASS: "pass", ERROR: "error" };

export interface Rendered<Label> {
  member: Member;
  /** The X-Cache-Info line; null at the edge when the shard's line stands (the edge only relayed its answer). */
  info: string | null;
  /** The tier's word in X-Cluster-Trace (`HIT`, `MISS`, `PASS(static)`, `RATE(api)`, …). */
  word: string;
  label: Label;
}

/** The edge hit's member, info line and word: the hot path renders them without the general renderer (`hitMemberText`). */
export const HIT_INFO = cacheInfo({ kind: "hit" });
export const HIT_WORD: ShardWord = "HIT";
const SF_INTEGER_MAX = 999_999_999_999_999;

/**
 * The Cache-Status member of a fresh hit, `name;hit;ttl=N`: what renderCacheStatus writes for it,
 * built without the serializer for the edge hit hot path (`name` must be an sf-token). The unit
 * test holds it equal to the renderer's output.
 */
export function hitMemberText(name: string, ttlSeconds: number): string {
  if (Number.isInteger(ttlSeconds) && Math.abs(ttlSeconds) <= SF_INTEGER_MAX) return `${name};hit;ttl=${ttlSeconds}`;
  return renderCacheStatus([{ cache: name, hit: true, ttlSeconds }]);
}

/** Renders one outcome for one tier: member, info line, trace word and counters' label, always from the same case. */
export function renderOutcome(tier: "shard", outcome: Outcome): Rendered<ShardOutcome>;
export function renderOutcome(tier: "edge", outcome: Outcome): Rendered<EdgeOutcome>;
export function renderOutcome(tier: Tier, outcome: Outcome): Rendered<ShardOutcome | EdgeOutcome> {
  const rendered: Rendered<ShardOutcome | EdgeOutcome> = describe(outcome);
  if (tier === "shard") return rendered;
  // Adjusted in place, not copied: one result object per rendering (the hit paths count objects).
  rendered.word = edgeWord(outcome) ?? rendered.word;
  rendered.label = edgeOutcomeOf(rendered.member);
  return rendered;
}

/** A rendering as the shard says it (its word and label); the edge adjusts word and label. */
type Described = Rendered<ShardOutcome>;

function described(member: Member, info: string | null, word: ShardWord): Described {
  return { member, info, word, label: SHARD_LABEL[word] };
}

function describe(o: Outcome): Described {
  switch (o.kind) {
    case "hit":
      return described({ hit: true, ttlSeconds: o.ttlSeconds }, HIT_INFO, HIT_WORD);
    case "refresh-ahead":
      return described({ hit: true, ttlSeconds: o.ttlSeconds, detail: "refresh-ahead" }, cacheInfo({ kind: "refresh-ahead" }), "HIT");
    case "stale":
      return stale(o.why, o.ttlSeconds);
    case "stale-on-error":
      return described({ hit: true, detail: o.why }, cacheInfo({ kind: o.why }), "STALE");
    case "stored":
      return described({ hit: false, fwd: o.fwd, fwdStatus: o.fwdStatus, ttlSeconds: o.ttlSeconds, ...storedParam(o.sizeKnown) }, cacheInfo({ kind: "stored" }), "MISS");
    case "revalidated":
      return described({ hit: false, fwd: o.fwd, fwdStatus: 304, detail: "revalidated" }, cacheInfo({ kind: "revalidated" }), "REVALIDATED");
    case "collapsed":
      return collapsed(o);
    case "from-shard":
      // The edge relays the shard's answer: the shard's X-Cache-Info line stands.
      return described({ hit: false, fwd: o.fwd, ...(o.storedAtEdge === undefined ? {} : { stored: o.storedAtEdge }) }, null, "MISS");
    case "not-stored":
      return described({ hit: false, fwd: o.fwd, fwdStatus: o.fwdStatus, stored: false, detail: o.reason.code }, reasonText(o.reason), "PASS");
    case "passed":
      return passed(o);
    case "origin-failed":
      return described({ hit: false, fwd: o.fwd, detail: `origin-${o.failure.kind}` }, `not cached; ${describeFailure(o.failure).text}`, "ERROR");
    case "only-if-cached-miss":
      return described({ hit: false, fwd: "miss", detail: "only-if-cached" }, cacheInfo({ kind: "only-if-cached-miss" }), "ERROR");
    case "rate-limited":
      return described({ hit: false, fwd: "bypass", detail: "rate-limited" }, `not cached; rate class "${o.rateClass}" is over its limit`, "ERROR");
    case "rule-answered":
      return described({ hit: false, fwd: "bypass", detail: `rule-${o.action}` }, `not cached; rule ${o.rules.join("+")} answered ${o.status} (${o.action})`, "PASS");
    default:
      return unreachable(o);
  }
}

/** Where the edge's trace word says more than the shard's would: the route to the origin, the rate class. */
function edgeWord(o: Outcome): string | undefined {
  if (o.kind === "passed") return passWord(o);
  if (o.kind === "origin-failed" && o.route !== undefined) return passWord(o.route);
  if (o.kind === "rate-limited") return `RATE(${o.rateClass})`;
  if (o.kind === "rule-answered") return `${o.action.toUpperCase()}(${o.rules.join("+")})`;
  return undefined;
}

function stale(why: StaleGrant, ttlSeconds: number): Described {
  switch (why) {
    case "refresh-time":
      // `fwd=stale`: the stale copy is why one request goes (or went) forward to refresh it.
      return described({ hit: true, fwd: "stale", ttlSeconds, detail: "refresh-time" }, cacheInfo({ kind: "refresh-time" }), "STALE");
    case "stale-while-revalidate":
      return described({ hit: true, ttlSeconds, detail: "stale-while-revalidate" }, cacheInfo({ kind: "stale-while-revalidate" }), "STALE");
    case "max-stale":
      // The client asked for stale (RFC 9111 §5.2.1.2): the shard counts it as the hit it asked for.
      return described({ hit: true, ttlSeconds, detail: "max-stale" }, cacheInfo({ kind: "stale-allowed" }), "HIT");
    default:
      return unreachable(why);
  }
}

function collapsed(o: Extract<Outcome, { kind: "collapsed" }>): Described {
  switch (o.onto) {
    case "fetch":
      return described({ hit: false, fwd: o.fwd, collapsed: true, ...storedParam(o.sizeKnown) }, cacheInfo({ kind: "collapsed" }), "COLLAPSED");
    case "revalidation":
      return described({ hit: false, fwd: o.fwd, collapsed: true, fwdStatus: 304 }, cacheInfo({ kind: "collapsed-revalidated" }), "COLLAPSED");
    case "shared-copy":
      // The edge follower's answer keeps the X-Cache-Info its leader's shard sent.
      return described({ hit: false, fwd: o.fwd, collapsed: true }, null, "COLLAPSED");
    default:
      return unreachable(o);
  }
}

function passed(o: Extract<Outcome, { kind: "passed" }>): Described {
  const base = { hit: false, fwd: o.fwd, fwdStatus: o.fwdStatus, stored: false };
  switch (o.why) {
    case "hit-for-pass":
      return described({ ...base, detail: o.why }, cacheInfo({ kind: "hit-for-pass" }), "PASS");
    case "collapse-timeout":
    case "collapse-released":
      return described({ ...base, detail: o.why }, `not cached; ${o.why}`, "PASS");
    case "rule":
      return described(base, cacheInfo({ kind: "rule-pass" }), "PASS");
    case "method":
      return described(base, reasonText({ code: "method", method: o.method }), "PASS");
    case "websocket":
      return described({ ...base, detail: o.why }, "not cached; WebSocket upgrade refused by the origin", "PASS");
    case "skip-sharding":
      return described({ ...base, detail: o.why }, "not cached; rule says skip sharding", "PASS");
    case "shards-unavailable":
      return described({ ...base, detail: o.why }, "not cached; no shard answered, fetched from origin directly", "PASS");
    default:
      return unreachable(o);
  }
}

/** The edge's trace word for a route to the origin: the same whether the origin answered or failed. */
function passWord(route: PassReason): string {
  switch (route.why) {
    case "rule":
      return `PASS(${route.rules.join("+")})`;
    case "websocket":
      return "PASS(websocket)";
    case "method":
    case "hit-for-pass":
    case "collapse-timeout":
    case "collapse-released":
      return "PASS";
    case "skip-sharding":
    case "shards-unavailable":
      // The edge missed and asked the origin in its shards' place.
      return "MISS";
    default:
      return unreachable(route);
  }
}

/**
 * Cache-Status `stored` (RFC 9211 §2.5) goes out before the body ends, so it is said only when the
 * body's size is known to fit (Content-Length, checked against maxObjectBytes by canStore): such a
 * response is stored unless its body fails, and a failing body errors the client's response too.
 * With no Content-Length the body may still turn out too large: the parameter is left out (unknown),
 * never claimed.
 */
function storedParam(sizeKnown: boolean): { stored?: true } {
  return sizeKnown ? { stored: true } : {};
}

function unreachable(value: never): never {
  throw new Error(`unhandled outcome: ${JSON.stringify(value)}`);
}
