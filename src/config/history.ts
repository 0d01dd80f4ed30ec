/**
 * Config history: every accepted document is kept in KV as a numbered version, so an operator can
 * see who changed what and when, and roll back. Layout (docs/storage-schema.md):
 *
 * - `config:version:<n>`: one record `{ version, at, by, summary, hash, text }`, the document's text
 *   exactly as accepted;
 * - `config:versions`: the index, `{ latest, versions: [{ version, at, by, summary, hash }] }`, newest
 *   last, at most `HISTORY_KEEP` entries (older records are deleted when they fall off).
 *
 * History and last good agree by construction: recording a version is the one place an accepted
 * document becomes last good (`recordLastGood`, src/config/last-good.ts), so `config:last-good` is
 * always what the newest version holds (or, for a cluster that predates history, what an isolate
 * first read as valid).
 *
 * KV has no transactions: two admins accepting documents in the same instant can both take number
 * n + 1, and the later write wins both keys. The admin API is one operator's tool, so this is a
 * documented limit rather than a Durable Object's worth of sequencing.
 */
import * as z from "zod";
import type { EpochMillis } from "../lib/units";
import { type ConfigKv, recordLastGood } from "./last-good";
import { versionOf } from "./load";

export const HISTORY_INDEX_KV_KEY = "config:versions";
export const versionKvKey = (version: number): string => `config:version:${version}`;
/** How many versions are kept; older ones are deleted as new ones arrive. */
export const HISTORY_KEEP = 50;

const entrySchema = z.object({
  version: z.number().int().min(1),
  at: z.number(),
  by: z.string(),
  summary: z.string(),
  /** `versionOf(text)`: the same fingerprint `GET /health` reports as `configVersion`. */
  hash: z.string(),
});
const indexSchema = z.object({ latest: z.number().int().min(0), versions: z.array(entrySchema) });
const recordSchema = entrySchema.extend({ text: z.string() });

export type VersionEntry = z.output<typeof entrySchema>;
export type VersionIndex = z.output<typeof indexSchema>;
export type VersionRecord = z.output<typeof recordSchema>;

/** KV operations history needs (a KVNamespace satisfies this). */
export interface HistoryKv extends ConfigKv {
  delete(key: string): Promise<void>;
}

const emptyIndex: VersionIndex = { latest: 0, versions: [] };

function parseStored<T>(schema: z.ZodType<T>, text: string | null): T | null {
  if (text === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The index; an absent or unreadable one (garbage in KV) reads as empty, so numbering restarts rather than failing every write. */
export async function readVersionIndex(kv: HistoryKv): Promise<VersionIndex> {
  return parseStored(indexSchema, await kv.get(HISTORY_INDEX_KV_KEY)) ?? emptyIndex;
}

/** One version's record, or null when it was never kept, fell off, or holds garbage. */
export async function readVersion(kv: HistoryKv, version: number): Promise<VersionRecord | null> {
  const record = parseStored(recordSchema, await kv.get(versionKvKey(version)));
  return record?.version === version ? record : null;
}

/** The index after appending `entry`, and the versions that fell off it. Pure. */
export function appendToIndex(index: VersionIndex, entry: VersionEntry, keep = HISTORY_KEEP): { index: VersionIndex; dropped: number[] } {
  const versions = [...index.versions, entry];
  const dropped = versions.slice(0, Math.max(0, versions.length - keep)).map((e) => e.version);
  return { index: { latest: entry.version, versions: versions.slice(dropped.length) }, dropped };
}

export interface AcceptedChange {
  text: string;
  by: string;
  summary: string;
  at: EpochMillis;
}

/**
 * Records an accepted (already validated) document as the next version and as last good. The
 * record is written before the index, so the index never names a version that is not there.
 */
export async function recordVersion(kv: HistoryKv, change: AcceptedChange): Promise<VersionEntry> {
  const index = await readVersionIndex(kv);
  const entry: VersionEntry = { version: index.latest + 1, at: change.at, by: change.by, summary: change.summary, hash: versionOf(change.text) };
  await kv.put(versionKvKey(entry.version), JSON.stringify({ ...entry, text: change.text } satisfies VersionRecord));
  const next = appendToIndex(index, entry);
  await kv.put(HISTORY_INDEX_KV_KEY, JSON.stringify(next.index));
  await Promise.all(next.dropped.map((version) => kv.delete(versionKvKey(version))));
  await recordLastGood(kv, change.text);
  return entry;
}
