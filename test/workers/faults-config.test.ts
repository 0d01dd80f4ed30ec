/**
 * Faults in KV on workerd (issue #11, findings 1 and 2): an invalid or missing `config` falls back
 * to the persisted last good document (never to built-in defaults while one exists), says so in
 * /health and raises one SERIOUS event; a malformed purge record is skipped, never costing the others.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LAST_GOOD_KV_KEY } from "../../src/config/last-good";
import { versionOf } from "../../src/config/load";
import { purgeRecordKey, readPurgeIndex, writePurgeRecord } from "../../src/edge/purge-log";
import { admin } from "../helpers/admin";
import { fetchVia, members } from "../helpers/http";
import { uniquePath } from "../helpers/origin";

/** A rule that makes /nocache-* uncacheable: its effect shows which document the worker runs on. */
const goodDoc = (marker: string) => ({ settings: { verbose: true }, rules: [{ name: `pass-${marker}`, match: { path: "/nocache-*" }, actions: { pass: true } }] });

/** Read from the EventLog object itself: an admin request would load the config and so change what it counts. */
async function seriousConfigEvents(): Promise<{ text: string }[]> {
  const events = await env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")).list({ minLevel: "SERIOUS", limit: 1000 });
  return events.filter((e) => e.section === "config" && e.tag === "confbad");
}

describe("config: the last good document survives a bad or missing `config`", () => {
  it("an admin PUT persists the accepted document as config:last-good", async () => {
    const doc = goodDoc("put");
    const { status } = await admin("PUT", "/config", doc);
    expect(status).toBe(200);
    expect(await env.CONFIG.get(LAST_GOOD_KV_KEY)).toBe(JSON.stringify(doc));
  });

  it("a valid document first read from KV is persisted as the last good one", async () => {
    const text = JSON.stringify(goodDoc("read"));
    await env.CONFIG.put("config", text);
    expect((await admin("GET", "/health")).body).toMatchObject({ configSource: "kv", configVersion: versionOf(text) });
    expect(await env.CONFIG.get(LAST_GOOD_KV_KEY)).toBe(text);
  });

  it.each([
    ["invalid", JSON.stringify({ settings: { primaries: "many" } })],
    ["not JSON", "{ settings: "],
    ["missing", null],
  ])("an isolate reading a %s `config` runs on the persisted last good one, reports it, and raises ONE serious event", async (_name, bad) => {
    // Written by "another isolate": this one never read it as `config`, so only KV can supply it.
    const marker = `lg-${Math.random().toString(36).slice(2)}`;
    const lastGood = JSON.stringify(goodDoc(marker));
    await env.CONFIG.put(LAST_GOOD_KV_KEY, lastGood);
    if (bad === null) await env.CONFIG.delete("config");
    else await env.CONFIG.put("config", bad);
    const eventsBefore = (await seriousConfigEvents()).length;
    for (let i = 0; i < 3; i++) {
      const response = await fetchVia(uniquePath("nocache"));
      expect(members(response).edge?.params.fwd).toBe("bypass"); // the last good document's pass rule holds
    }
    expect((await admin("GET", "/health")).body).toMatchObject({ configSource: "last-good", configVersion: versionOf(lastGood) });
    const events = await seriousConfigEvents();
    expect(events.length - eventsBefore).toBe(1);
    expect(events.at(-1)!.text).toMatch(/using the last good config/);
  });
  // Built-in defaults only when no good document ever existed: test/unit/config/load.test.ts (this
  // isolate has run on good documents, and the pool shares one isolate per file).
});

describe("purge log: a malformed record never disables the index", () => {
  it("skips a record that does not parse and keeps the tag purge recorded beside it", async () => {
    const tag = `t-${Math.random().toString(36).slice(2)}`;
    const at = Date.now();
    await writePurgeRecord(env.CONFIG, { at, tag });
    const badKey = purgeRecordKey(at - 1, "garbage");
    await env.CONFIG.put(badKey, "{this is not json");
    const index = await readPurgeIndex(env.CONFIG);
    expect(index.malformed).toContain(badKey);
    expect(index.purges({ key: "https://cache.test/x", tags: [tag], storedAt: at - 10 })).toBe(true);
    await env.CONFIG.delete(badKey);
  });
});
