/**
 * Whether a value a client sent equals a secret, in a time that does not depend on where they
 * differ: every character of the secret is compared, with no early exit, so the answer's timing
 * never tells a client how much of a guess was right (which would let it find the secret a character
 * at a time). Only whether the lengths match can show. Pure, for the request path's synchronous
 * checks; the admin API's bearer token uses the platform's `crypto.subtle.timingSafeEqual` on
 * digests instead (src/admin/auth.ts), where an await costs nothing.
 */
export function sameSecret(sent: string, secret: string): boolean {
  let difference = sent.length ^ secret.length;
  for (let i = 0; i < secret.length; i++) difference |= (i < sent.length ? sent.charCodeAt(i) : 0) ^ secret.charCodeAt(i);
  return difference === 0;
}
