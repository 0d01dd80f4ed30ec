/**
 * Per-isolate loaders on the real runtime, across request contexts: workerd runs a promise's
 * continuations in the request (IoContext) that started the I/O and cancels them once that request is
 * done or cancelled, so a request awaiting a load another request started is left waiting for good
 * (workerd then kills it: "The script will never generate a response"). CachedValue
 * (src/lib/cached-value.ts) hands no caller another caller's load.
 *
 * Two request contexts that the test controls: two Durable Objects (each object is one IoContext; the
 * test, the worker and the objects share one isolate, so one loader serves both). The starter's load
 * is a demo-origin request held unanswered; the starter's object is then aborted, which cancels its
 * I/O as a client disconnect cancels an edge request (a SELF.fetch cannot be cut off mid-load here:
 * the test runs nothing until the handler's load has finished). Then a caller in the other context
 * must still answer. With the loaders' old shared promise it hangs until the bound below.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigLoader } from "../../src/config/load";
import { PurgeIndex, PurgeLogLoader } from "../../src/edge/purge-log";
import { SingleFlight } from "../../src/edge/single-flight";
import { cachedValue } from "../../src/lib/cached-value";
import { ok } from "../../src/lib/result";
import { failOrigin } from "../helpers/http";
import { originUrl, uniquePath } from "../helpers/origin";

/** How long the other caller may take: far beyond a loopback request, and far below the test's limit. */
const HANG_BOUND_MS = 4_000;
const TTL_MS = 1_000;
const HUNG = "hung: awaited a load another request started";

/** A request context of its own: a fresh object (each object's requests share one IoContext). */
const context = (name: string) => env.METRICS_COLLECTOR.get(env.METRICS_COLLECTOR.idFromName(`${name}-${crypto.randomUUID()}`));

/** What each loader answers, as text, so the table can compare them. */
type Loader = { get(now: number): Promise<string> };

/** Each per-isolate loader of the edge, its load a GET of `url` (real I/O, in the context of the caller that starts it). */
const loaders: { name: string; make(url: string): Loader }[] = [
  {
    name: "cachedValue (the HealthMonitor snapshot, src/origin/pool-fetch.ts)",
    make: (url) => {
      let now = 0;
      const get = cachedValue(
        () => fetch(url).then((r) => r.text()),
        TTL_MS,
        () => now,
      );
      return { get: (at) => ((now = at), get()) };
    },
  },
  {
    name: "ConfigLoader",
    make: (url) => {
      const loader = new ConfigLoader<{ text: string }>({
        read: () => fetch(url).then((r) => r.text()),
        readLastGood: async () => null,
        writeLastGood: async () => {},
        parse: (raw) => ok({ text: JSON.stringify(raw) }),
        fallback: { text: "default" },
        memoMs: TTL_MS,
        report: () => {},
      });
      return { get: async (now) => (await loader.get(now)).version };
    },
  },
  {
    name: "PurgeLogLoader",
    make: (url) => {
      const loader = new PurgeLogLoader(
        () => fetch(url).then(async (r) => new PurgeIndex([{ at: 1, key: await r.text() }])),
        TTL_MS,
        () => {},
      );
      return { get: async (now) => ((await loader.get(now)).purges({ key: "demo", tags: [], storedAt: 0 }) ? "purged" : `size ${(await loader.get(now)).size}`) };
    },
  },
];

/** Starts a load in a context of its own and then aborts that context while the origin holds the load. */
async function startThenCancel(loader: Loader, now: number): Promise<void> {
  const starter = context("starter");
  await runInDurableObject(starter, async () => {
    void loader.get(now).catch(() => {});
  });
  await runInDurableObject(starter, async (_object, state) => state.abort("the client went away")).catch(() => {});
}

/** `loader.get(now)` from another context, bounded there by that context's own timer. */
function fromOtherContext(loader: Loader, now: number): Promise<string> {
  return runInDurableObject(context("other"), async () => {
    const bound = new Promise<string>((resolve) => setTimeout(() => resolve(HUNG), HANG_BOUND_MS));
    return Promise.race([loader.get(now), bound]);
  });
}

describe.each(loaders)("$name across request contexts on workerd", ({ make }) => {
  it("a request that arrives while a cancelled request's refresh is in flight answers from the value held", async () => {
    const prefix = uniquePath("xreq-warm");
    const loader = make(`${originUrl}${prefix}/load`);
    const held = await loader.get(0);
    await failOrigin(prefix, "hold");
    try {
      await startThenCancel(loader, TTL_MS);
      expect(await fromOtherContext(loader, TTL_MS + 1)).toBe(held);
    } finally {
      await failOrigin(prefix, "off");
    }
  });

  it("on a cold isolate, a request that arrives while a cancelled request's first load is in flight answers from a load of its own", async () => {
    const prefix = uniquePath("xreq-cold");
    const loader = make(`${originUrl}${prefix}/load`);
    await failOrigin(prefix, "hold");
    let released = false;
    try {
      await startThenCancel(loader, 0);
      const answer = fromOtherContext(loader, 1);
      await failOrigin(prefix, "off");
      released = true;
      expect(await answer).not.toBe(HUNG);
    } finally {
      if (!released) await failOrigin(prefix, "off");
    }
  });
});

describe("edge single-flight across request contexts on workerd", () => {
  it("a follower of a leader whose request was cancelled mid-call is released after waitMs, and the next caller leads", async () => {
    const prefix = uniquePath("xreq-flight");
    const flights = new SingleFlight<string>();
    const waitMs = 300;
    await failOrigin(prefix, "hold");
    try {
      const leader = context("leader");
      await runInDurableObject(leader, async () => {
        void flights
          .run(
            "key",
            waitMs,
            async () => ({ result: "leader", shared: fetch(`${originUrl}${prefix}/miss`).then((r) => r.text()) }),
            async () => "unused",
          )
          .catch(() => {});
      });
      await runInDurableObject(leader, async (_object, state) => state.abort("the client went away")).catch(() => {});
      const answers = await runInDurableObject(context("follower"), async () => {
        const bound = new Promise<string>((resolve) => setTimeout(() => resolve(HUNG), HANG_BOUND_MS));
        const follower = await Promise.race([
          flights.run(
            "key",
            waitMs,
            async () => ({ result: "led", shared: Promise.resolve(null) }),
            async (shared) => `followed (shared ${shared})`,
          ),
          bound,
        ]);
        const next = await Promise.race([
          flights.run(
            "key",
            waitMs,
            async () => ({ result: "led", shared: Promise.resolve(null) }),
            async () => "followed",
          ),
          bound,
        ]);
        return [follower, next];
      });
      expect(answers).toEqual(["followed (shared null)", "led"]);
    } finally {
      await failOrigin(prefix, "off");
    }
  });
});
