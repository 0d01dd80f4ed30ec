/** Talking to the test origin from inside workerd: its request counts, and unique paths per test. */
import { env } from "cloudflare:test";

const originUrl = (env as unknown as { TEST_ORIGIN_URL: string }).TEST_ORIGIN_URL;

/** How many requests the origin has seen for exactly this path and query. */
export async function originCount(pathAndQuery: string): Promise<number> {
  const stats = (await (await fetch(`${originUrl}/__stats`)).json()) as { requests: Record<string, number> };
  return stats.requests[pathAndQuery] ?? 0;
}

let counter = 0;
/** Files run in parallel against one demo origin: a random part per file keeps their paths apart. */
const FILE_PART = crypto.randomUUID().slice(0, 8);
/** A path no other test uses, so origin counts and cache entries never leak between tests. */
export function uniquePath(name: string): string {
  counter += 1;
  return `/${name}-${Date.now().toString(36)}-${FILE_PART}-${counter}`;
}

export { originUrl };
