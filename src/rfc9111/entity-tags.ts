/**
 * Owns entity-tag syntax and comparison (RFC 9110 §8.8.3): parsing single tags and If-None-Match
 * style lists, weak and strong comparison.
 */

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag including its quotes, e.g. `"abc"`. */
  opaque: string;
}

/**
 * RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE.
 * deviation: an unquoted tag (a common origin mistake) is read as if it had been quoted.
 */
export function parseEntityTag(value: string | null): EntityTag | null {
  if (value === null) return null;
  const text = value.trim();
  if (text === "") return null;
  const weak = /^W\//.test(text);
  const rest = weak ? text.slice(2) : text;
  const quoted = /^"[^"]*"$/.test(rest) ? rest : `"${rest.replace(/"/g, "")}"`;
  return { weak, opaque: quoted };
}

/**
 * A list of entity-tags (If-None-Match, RFC 9110 §13.1.2), or "*". Commas may occur inside quoted
 * tags, so the list is scanned tag by tag rather than split; unparseable members are skipped.
 */
export function parseEntityTagList(value: string | null): EntityTag[] | "*" {
  if (value === null) return [];
  if (value.trim() === "*") return "*";
  const tags: EntityTag[] = [];
  const member = /\s*(W\/)?("[^"]*"|[^",\s]+)\s*(?:,|$)/gy;
  for (let m = member.exec(value); m !== null && m[0] !== ""; m = member.exec(value)) {
    const tag = parseEntityTag(`${m[1] ?? ""}${m[2]}`);
    if (tag !== null) tags.push(tag);
  }
  return tags;
}

/** RFC 9110 §8.8.3.2 weak comparison: opaque-tags match character for character, W/ ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** RFC 9110 §8.8.3.2 strong comparison: both strong and identical. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}
