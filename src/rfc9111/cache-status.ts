/**
 * Owns rendering the Cache-Status response field (RFC 9211) as a Structured Fields list.
 */
import { serializeList, Token, type BareItem, type Item, type Parameters } from "structured-headers";
import type { CacheOutcome } from "./types";

/** RFC 9651 §3.3.4 token (the Token class validates against the same grammar). */
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~:/0-9A-Za-z]*$/;
/** RFC 9651 §3.3.1: integers have at most 15 digits. */
const SF_INTEGER_MAX = 999_999_999_999_999;

/**
 * RFC 9211 §2: one list member per cache, in the order given — the cache nearest the origin first,
 * each hop appending itself. Members are parameterised with hit, fwd, fwd-status, ttl, stored,
 * collapsed and detail (§2.1–§2.8).
 */
export function renderCacheStatus(outcomes: readonly CacheOutcome[]): string {
  return serializeList(outcomes.map(member));
}

function member(outcome: CacheOutcome): Item {
  return [tokenOrString(outcome.cache), parameters(outcome)];
}

function parameters(o: CacheOutcome): Parameters {
  const params: Parameters = new Map<string, BareItem>();
  if (o.hit) params.set("hit", true); // §2.1: present only when true
  if (o.fwd !== undefined) params.set("fwd", new Token(o.fwd)); // §2.2
  if (o.fwdStatus !== undefined) params.set("fwd-status", sfInteger(o.fwdStatus)); // §2.3
  if (o.ttlSeconds !== undefined) params.set("ttl", sfInteger(o.ttlSeconds)); // §2.4, negative when stale
  if (o.stored !== undefined) params.set("stored", o.stored); // §2.5
  if (o.collapsed === true) params.set("collapsed", true); // §2.6
  if (o.detail !== undefined) params.set("detail", tokenOrString(o.detail)); // §2.8
  return params;
}

/** A token when the text is one, else an sf-string with non-printable / non-ASCII characters replaced. */
function tokenOrString(text: string): BareItem {
  if (SF_TOKEN.test(text)) return new Token(text);
  return text.replace(/[^\x20-\x7e]/g, "?");
}

function sfInteger(n: number): number {
  if (!Number.isFinite(n)) return n > 0 ? SF_INTEGER_MAX : -SF_INTEGER_MAX;
  return Math.max(-SF_INTEGER_MAX, Math.min(SF_INTEGER_MAX, Math.trunc(n)));
}
