/** Bearer-token checks for the admin API, with a comparison whose time does not depend on where the strings differ. */

const encoder = new TextEncoder();

/**
 * True when `provided` equals `secret`. Every byte of the secret is compared whatever the input, so
 * the time taken says nothing about how much of a guess was right (only, at most, its length).
 */
export function constantTimeEqual(provided: string, secret: string): boolean {
  const a = encoder.encode(provided);
  const b = encoder.encode(secret);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(header: string | null): string | null {
  if (header === null) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match === null ? null : match[1]!;
}

export type AuthVerdict = { ok: true } | { ok: false; status: 401 | 503; message: string };

/** The admin API's gate: disabled without a configured token, else the bearer token must match it. */
export function checkAdminAuth(authorization: string | null, configuredToken: string | undefined): AuthVerdict {
  if (configuredToken === undefined || configuredToken === "") return { ok: false, status: 503, message: "admin API disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN)" };
  const token = bearerToken(authorization);
  if (token === null) return { ok: false, status: 401, message: "missing bearer token (Authorization: Bearer <ADMIN_TOKEN>)" };
  if (!constantTimeEqual(token, configuredToken)) return { ok: false, status: 401, message: "invalid bearer token" };
  return { ok: true };
}
