/**
 * Owns the Content-Length grammar (RFC 9110 §8.6): the one reading of a declared body length that the
 * shard (store decisions, the stored length) and the edge (re-framing a streamed hit) share.
 */

/**
 * RFC 9110 §8.6: Content-Length = 1*DIGIT. A list of identical values (`42, 42`, which a recipient MAY
 * accept as one) is read as that value; differing values, signs, fractions and blanks → null (unknown).
 * More than 15 digits is beyond any body this cache handles → null.
 */
export function declaredLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null) return null;
  const members = [...new Set(value.split(",").map((m) => m.trim()))];
  if (members.length !== 1 || !/^\d{1,15}$/.test(members[0] ?? "")) return null;
  return Number(members[0]);
}
