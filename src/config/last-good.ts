/**
 * The last good config document, persisted beside `config` in KV under `config:last-good`, so a
 * fresh isolate that finds `config` missing or invalid (a direct KV write, a bad `wrangler kv key put`)
 * still runs on the rules the cluster last accepted instead of built-in defaults.
 *
 * Written when a valid document is accepted (recorded as a config version, src/config/history.ts) or first read by an isolate; read only when
 * `config` is unusable. The one module that knows the key: config history (`config:version:<n>`)
 * calls `recordLastGood` whenever it records a version, so both always agree.
 *
 * Ordering: KV is eventually consistent, so an isolate still reading an older valid document may
 * write it back as last good after a newer PUT; every isolate that then reads the newer one rewrites
 * it, so the older text lasts at most one KV propagation period (about a minute).
 */

export const LAST_GOOD_KV_KEY = "config:last-good";

/** The two KV operations last-good needs (a KVNamespace satisfies this). */
export interface ConfigKv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

/** Persists `text` (already validated) as the last good document; writes only when it differs. True when written. */
export async function recordLastGood(kv: ConfigKv, text: string): Promise<boolean> {
  if ((await kv.get(LAST_GOOD_KV_KEY)) === text) return false;
  await kv.put(LAST_GOOD_KV_KEY, text);
  return true;
}

/** The persisted last good document's text, or null when no good document was ever recorded. */
export function readLastGood(kv: ConfigKv): Promise<string | null> {
  return kv.get(LAST_GOOD_KV_KEY);
}
