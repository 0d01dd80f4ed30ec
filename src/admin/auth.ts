/**
 * The admin API's gate: a strong configured token (outside local dev), a bearer token compared in
 * constant time with the platform's `crypto.subtle.timingSafeEqual`, and throttled failures
 * (src/admin/login-throttle.ts).
 */
import { DEV_ADMIN_TOKEN } from "../lib/dev-token";

/** Shortest ADMIN_TOKEN accepted outside local dev (32 characters: e.g. `openssl rand -hex 16`, or more). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** The platform's constant-time comparison of two equally long byte strings (`crypto.subtle.timingSafeEqual` on Workers). */
export type TimingSafeEqual = (a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer) => boolean;

const encoder = new TextEncoder();

/**
 * True when `provided` equals `secret`. Both are hashed first (SHA-256), so the platform's
 * timingSafeEqual compares two 32-byte digests: neither where a guess differs nor its length shows
 * in the time taken (timingSafeEqual itself requires equal lengths).
 */
export async function tokensEqual(provided: string, secret: string, timingSafeEqual: TimingSafeEqual): Promise<boolean> {
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(provided)), crypto.subtle.digest("SHA-256", encoder.encode(secret))]);
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(header: string | null): string | null {
  if (header === null) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match === null ? null : match[1]!;
}

/**
 * Why the configured token must not open the admin API, or null when it may. Outside local dev
 * (the `SHARDCACHE_LOCAL_DEV` variable that `npm start` and the tests set), a short token or the
 * development token published in the README would hand the cache to anyone who guesses it.
 */
export function weakTokenProblem(configuredToken: string, localDev: boolean): string | null {
  if (localDev) return null;
  if (configuredToken === DEV_ADMIN_TOKEN) return "admin API refused: ADMIN_TOKEN is the published development token; set a secret of your own (wrangler secret put ADMIN_TOKEN)";
  if (configuredToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    return `admin API refused: ADMIN_TOKEN is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters; set a strong secret (openssl rand -hex 32 | wrangler secret put ADMIN_TOKEN)`;
  }
  return null;
}

export type AuthVerdict = { ok: true } | { ok: false; status: 401 | 503; message: string };

export interface AuthSettings {
  configuredToken: string | undefined;
  localDev: boolean;
  timingSafeEqual: TimingSafeEqual;
}

/** Disabled without a configured token, refused with a weak one outside local dev, else the bearer token must match it. */
export async function checkAdminAuth(authorization: string | null, settings: AuthSettings): Promise<AuthVerdict> {
  const { configuredToken } = settings;
  if (configuredToken === undefined || configuredToken === "") return { ok: false, status: 503, message: "admin API disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN)" };
  const weak = weakTokenProblem(configuredToken, settings.localDev);
  if (weak !== null) return { ok: false, status: 503, message: weak };
  const token = bearerToken(authorization);
  if (token === null) return { ok: false, status: 401, message: "missing bearer token (Authorization: Bearer <ADMIN_TOKEN>)" };
  if (!(await tokensEqual(token, configuredToken, settings.timingSafeEqual))) return { ok: false, status: 401, message: "invalid bearer token" };
  return { ok: true };
}
