/**
 * The config loader's choice of document (src/config/load.ts) for every state KV can be in: the
 * document itself, the persisted last good one, built-in defaults; and what it reports, once.
 */
import { describe, expect, it } from "vitest";
import { ConfigLoader, versionOf, type ConfigSource } from "../../../src/config/load";
import { err, ok } from "../../../src/lib/result";
import type { EventLevel } from "../../../src/events/events";

type Doc = { name: string };
const parse = (raw: unknown) => (typeof raw === "object" && raw !== null && typeof (raw as Doc).name === "string" ? ok(raw as Doc) : err([{ path: "name", message: "must be a string" }]));
const GOOD = JSON.stringify({ name: "good" });
const OTHER = JSON.stringify({ name: "other" });

function harness(config: string | null, lastGood: string | null) {
  const kv = { config, lastGood, writes: [] as string[], failRead: false };
  const reports: { problem: string; level: EventLevel }[] = [];
  const loader = new ConfigLoader<Doc>({
    read: async () => {
      if (kv.failRead) throw new Error("kv down");
      return kv.config;
    },
    readLastGood: async () => kv.lastGood,
    writeLastGood: async (text) => {
      if (kv.lastGood === text) return;
      kv.lastGood = text;
      kv.writes.push(text);
    },
    parse,
    fallback: { name: "default" },
    memoMs: 0,
    report: (problem, level) => void reports.push({ problem, level }),
  });
  return { kv, reports, loader };
}

describe("ConfigLoader: which document an isolate runs on", () => {
  const cases: { name: string; config: string | null; lastGood: string | null; source: ConfigSource; doc: string; serious: number }[] = [
    { name: "a valid document", config: GOOD, lastGood: null, source: "kv", doc: "good", serious: 0 },
    { name: "an invalid document, with a last good one", config: '{"name":5}', lastGood: OTHER, source: "last-good", doc: "other", serious: 1 },
    { name: "a document that is not JSON, with a last good one", config: "{oops", lastGood: OTHER, source: "last-good", doc: "other", serious: 1 },
    { name: "no document, with a last good one", config: null, lastGood: OTHER, source: "last-good", doc: "other", serious: 1 },
    { name: "an invalid document, no good one ever", config: "[]", lastGood: null, source: "default", doc: "default", serious: 1 },
    { name: "an invalid document and an invalid last good one", config: "[]", lastGood: "[]", source: "default", doc: "default", serious: 1 },
    { name: "no document and none ever (a fresh install)", config: null, lastGood: null, source: "default", doc: "default", serious: 0 },
  ];
  it.each(cases)("$name → $source", async ({ config, lastGood, source, doc, serious }) => {
    const { loader, reports } = harness(config, lastGood);
    for (let now = 0; now < 5; now++) {
      const loaded = await loader.get(now);
      expect(loaded.source).toBe(source);
      expect(loaded.config.name).toBe(doc);
    }
    expect(reports.filter((r) => r.level === "SERIOUS")).toHaveLength(serious);
  });

  it("persists a valid document as the last good one the first time it is read, and only then", async () => {
    const { loader, kv } = harness(GOOD, OTHER);
    await loader.get(0);
    await loader.get(1);
    expect(kv.writes).toEqual([GOOD]);
    kv.config = OTHER;
    expect((await loader.get(2)).version).toBe(versionOf(OTHER));
    expect(kv.writes).toEqual([GOOD, OTHER]);
  });

  it("keeps the document in use when KV cannot be read, with one warning", async () => {
    const { loader, kv, reports } = harness(GOOD, null);
    expect((await loader.get(0)).source).toBe("kv");
    kv.failRead = true;
    for (let now = 1; now < 4; now++) expect(await loader.get(now)).toMatchObject({ source: "kv", version: versionOf(GOOD) });
    expect(reports).toEqual([{ level: "WARNING", problem: "config: KV read failed, keeping the config in use (kv down)" }]);
  });

  it("a good document that turns bad falls back to the persisted last good one and says so once", async () => {
    const { loader, kv, reports } = harness(GOOD, null);
    expect((await loader.get(0)).source).toBe("kv");
    kv.config = '{"name":null}';
    for (let now = 1; now < 4; now++) expect(await loader.get(now)).toMatchObject({ source: "last-good", version: versionOf(GOOD) });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ level: "SERIOUS" });
    expect(reports[0]!.problem).toMatch(/name: must be a string; using the last good config/);
    kv.config = OTHER;
    expect(await loader.get(5)).toMatchObject({ source: "kv", version: versionOf(OTHER) });
  });

  it("a request that arrives while another's KV read is in flight gets the config in use at once, never that read", async () => {
    // On workerd a read belongs to the request that started it and dies with it (a client that
    // disconnects): a request awaiting it would hang (src/lib/cached-value.ts, test/workers/cross-request-loads.test.ts).
    const reads: ((text: string | null) => void)[] = [];
    const loader = new ConfigLoader<Doc>({
      read: () => new Promise((resolve) => reads.push(resolve)),
      readLastGood: async () => null,
      writeLastGood: async () => {},
      parse,
      fallback: { name: "default" },
      memoMs: 1_000,
      report: () => {},
    });
    const cold = loader.get(0);
    reads[0]!(GOOD);
    expect((await cold).config.name).toBe("good");
    const starter = loader.get(1_000); // its request is then cancelled: this read never answers
    expect(reads).toHaveLength(2);
    expect(loader.fresh(1_001)).toBeNull();
    const other = loader.get(1_001);
    let answered: string | undefined;
    void other.then((loaded) => (answered = loaded.config.name));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(answered).toBe("good");
    expect(reads).toHaveLength(2);
    // The starter itself awaits its own read and sees what it read: a change applies from the first request after the memo period.
    reads[1]!(OTHER);
    expect((await starter).config.name).toBe("other");
    expect(loader.fresh(1_002)?.config.name).toBe("other");
  });
});
