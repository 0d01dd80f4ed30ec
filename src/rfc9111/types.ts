/**
 * Plain-data types shared by the RFC 9111 policy layer: what a stored response remembers, what a
 * reuse decision says, and the reason codes that flow into Cache-Status and X-Cache-Info.
 * Nothing here touches the runtime; every value is JSON-serialisable so the shard's SQLite store,
 * its memory LRU and the edge tier keep the same record.
 */
import type { FieldReader } from "../lib/field-reader";
import type { Seconds } from "../lib/units";

/** The parts of a request the policy reads (of its fields, `get` and `has`: a `Headers` is one). */
export interface RequestLike {
  method: string;
  url: string;
  headers: FieldReader;
}

/** The parts of a response the policy reads. */
export interface ResponseLike {
  status: number;
  headers: Headers;
}

/** Rule overrides that change what the origin's headers alone would decide (issue 4 fills these from rules). */
export interface PolicyOverrides {
  /**
   * This freshness lifetime replaces the origin's (its max-age, Expires, heuristics, no-cache, and the
   * need for a validator). It does NOT lift the shared-cache safety checks of §3 (Authorization,
   * private, no-store, Set-Cookie, request no-store): each has its own explicit override below.
   */
  forcedTtlSeconds?: Seconds;
  /** DANGEROUS: store responses to requests with Authorization although §3.5 forbids it (one user's answer for all). */
  storeAuthorized?: boolean;
  /** DANGEROUS: store responses marked `private` (§5.2.2.7), which are meant for one user. */
  ignorePrivate?: boolean;
  /** DANGEROUS: store responses marked `no-store` (§5.2.2.5). */
  ignoreNoStore?: boolean;
  /** Serve-stale windows added to (or replacing absent) response stale-while-revalidate / stale-if-error. */
  staleWhileRevalidateSeconds?: Seconds;
  staleIfErrorSeconds?: Seconds;
  /**
   * Responses with Set-Cookie (refused by default, deviation 16): "strip" stores them without the field,
   * "keep" stores them WITH it, so every client gets the cookie (only safe for cookies that are the same
   * for everyone). Absent or "off": not stored.
   */
  storeSetCookie?: StoreSetCookie;
  /** A response rule said `cache: false` (its name): not stored, whatever the response allows. */
  refusedByRule?: string;
}

/** What to do with a response that sets a cookie: not store it, store it without Set-Cookie, or with it. */
export type StoreSetCookie = "off" | "strip" | "keep";

/** Limits the caller enforces through the policy, so refusals carry a reason. */
export interface StoreLimits {
  maxObjectBytes: number;
  /** Bytes of selecting request-header values a variant may carry (names + values). */
  maxVaryBytes: number;
  /** Cap on heuristic freshness (RFC 9111 §4.2.2 suggests 10% of Last-Modified age; we cap it). */
  maxHeuristicSeconds: Seconds;
  /** Ceiling on every freshness lifetime, forced ones included (the operator's maximum TTL). */
  maxLifetimeSeconds: Seconds;
}

/**
 * Why a response was not stored (or is stored but always revalidated). Each code has one exact
 * human text (see `reasonText`) in the wording traffic-manager users know.
 */
export type NotStorableReason =
  | { code: "method"; method: string }
  | { code: "request-body" }
  | { code: "request-no-store" }
  | { code: "authorization" }
  | { code: "response-no-store"; header: string }
  | { code: "response-private"; header: string }
  | { code: "vary-star" }
  | { code: "vary-too-large"; bytes: number }
  | { code: "too-large"; bytes: number }
  | { code: "status"; status: number }
  | { code: "max-age-zero-no-validator"; header: string }
  | { code: "already-expired" }
  | { code: "redirect-without-freshness"; status: number }
  | { code: "no-freshness-no-validator" }
  | { code: "partial-content" }
  | { code: "set-cookie" }
  | { code: "rule"; rule: string };

/** A storability verdict. `stored` entries may still be flagged always-revalidate (response no-cache). */
export type StoreVerdict = { store: true; reason: "cached" | "forced"; alwaysRevalidate: boolean; strippedFields: string[] } | { store: false; reason: NotStorableReason };

/** The record a cache keeps for one stored response (its schema, encoder and checked decoder: ./stored-record.ts). */
export type { StoredMeta } from "./stored-record";

/** Why a stored response cannot be used without contacting the origin. */
export type RevalidateReason = "stale" | "no-cache-response" | "no-cache-request" | "request-max-age" | "request-min-fresh" | "must-revalidate";

/** What to do with a stored response for a given request. One exhaustive switch renders it. */
export type ReuseDecision =
  | { kind: "fresh"; ageSeconds: Seconds; ttlSeconds: Seconds }
  /** Serve it now and revalidate in the background (stale-while-revalidate, or request max-stale). */
  | { kind: "stale-while-revalidate"; ageSeconds: Seconds; ttlSeconds: Seconds }
  /** Serve stale because the request's max-stale allows it; no revalidation needed. */
  | { kind: "stale-allowed"; ageSeconds: Seconds; ttlSeconds: Seconds }
  | { kind: "revalidate"; reason: RevalidateReason; ageSeconds: Seconds; ttlSeconds: Seconds };

/** RFC 9211 forward reasons. */
export type ForwardReason = "bypass" | "method" | "uri-miss" | "vary-miss" | "miss" | "request" | "stale" | "partial";

/** Everything one cache hop knows when it renders its Cache-Status member and X-Cache-Info line. */
export interface CacheOutcome {
  /** Cache name in Cache-Status, e.g. "shardcache-edge" or "shardcache-shard". */
  cache: string;
  hit: boolean;
  fwd?: ForwardReason;
  fwdStatus?: number;
  /** Remaining freshness in seconds (negative when stale). */
  ttlSeconds?: Seconds;
  stored?: boolean;
  collapsed?: boolean;
  /** Free-form detail (e.g. "stale-if-error", "hit-for-pass", a reason code). */
  detail?: string;
}
