/**
 * The one way a document becomes the cluster's config through the admin API (PUT /config, rollback,
 * node drain/disable/enable, rule add/remove): validated, written as `config`, recorded as the next
 * numbered version (and so as last good, src/config/history.ts), announced as a `confchange` event.
 */
import { diffConfig, summariseChanges } from "../config/diff";
import { parseConfig } from "../config/document";
import type { ConfigError } from "../config/errors";
import { type HistoryKv, recordVersion, type VersionEntry } from "../config/history";
import { versionOf } from "../config/load";
import type { NewEvent } from "../events/events";
import type { EpochMillis } from "../lib/units";

export interface ConfigChangeDeps {
  readStoredConfig(): Promise<string | null>;
  /** Writes `config` only; history and last good are recorded here, after it. */
  writeStoredConfig(text: string): Promise<void>;
  history: HistoryKv;
  events: { append(events: NewEvent[]): Promise<unknown> };
  now(): EpochMillis;
}

/** Who made a change: the `X-Shardcache-Actor` header (the CLI sends user@host), printable ASCII only, else "admin API". */
export function actorOf(request: Request): string {
  const raw = request.headers.get("x-shardcache-actor")?.trim() ?? "";
  const clean = raw.replace(/[^\x20-\x7e]/g, "").slice(0, 100);
  return clean === "" ? "admin API" : clean;
}

/** The stored document as JSON, `{}` when there is none; null when what is stored is not JSON. */
export async function storedDocument(deps: Pick<ConfigChangeDeps, "readStoredConfig">): Promise<{ text: string | null; value: unknown } | null> {
  const text = await deps.readStoredConfig();
  if (text === null) return { text, value: {} };
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    return null;
  }
}

export type AcceptResult = { ok: true; entry: VersionEntry } | { ok: false; errors: ConfigError[] };

/**
 * Validates `text` and, when valid, makes it the config. `what` describes the change for the
 * history and the event (e.g. "drain node … of pool web"); without it the summary is the diff
 * against the stored document.
 */
export async function acceptConfig(deps: ConfigChangeDeps, text: string, by: string, what?: string): Promise<AcceptResult> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [{ path: "(root)", message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` }] };
  }
  const parsed = parseConfig(value);
  if (!parsed.ok) return { ok: false, errors: parsed.error };
  const before = await storedDocument(deps);
  const summary = what ?? summariseChanges(diffConfig(before?.value ?? {}, value));
  await deps.writeStoredConfig(text);
  const entry = await recordVersion(deps.history, { text, by, summary, at: deps.now() });
  const was = before?.text == null ? "default" : versionOf(before.text);
  await deps.events.append([{ time: deps.now(), level: "INFO", section: "config", tag: "confchange", text: `Configuration version ${entry.version} (${entry.hash}, was ${was}) by ${by}: ${summary}` }]).catch(() => {});
  return { ok: true, entry };
}
