/** Writing the config document into the real KV binding the worker reads (memo is 0 in tests). */
import { env } from "cloudflare:test";

export async function putConfig(doc: unknown): Promise<void> {
  await env.CONFIG.put("config", JSON.stringify(doc));
}
