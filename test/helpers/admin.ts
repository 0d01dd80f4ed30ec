/** Calling the admin API through the real worker (SELF.fetch) with the test token from vitest.config.ts. */
import { SELF } from "cloudflare:test";

export const ADMIN_BASE = "http://cache.test/_shardcache";
export const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghij";

export async function admin(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: any; response: Response }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await SELF.fetch(`${ADMIN_BASE}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test sees the text
  }
  return { status: response.status, body: parsed, response };
}
