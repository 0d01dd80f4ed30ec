import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SingleFlight } from "../../../src/edge/single-flight";

/** A promise and its resolve/reject, for leaders whose answer the test controls. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("SingleFlight", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs one leader for concurrent callers of a key; followers get what it shares", async () => {
    const flights = new SingleFlight<string>();
    const lead = vi.fn(async () => ({ result: "leader", shared: Promise.resolve("copy") }));
    const follow = vi.fn(async (shared: string | null) => `follower:${shared}`);
    const results = await Promise.all(Array.from({ length: 200 }, () => flights.run("k", 1000, lead, follow)));
    expect(lead).toHaveBeenCalledTimes(1);
    expect(results[0]).toBe("leader");
    expect(results.slice(1).every((r) => r === "follower:copy")).toBe(true);
    expect(flights.size).toBe(0);
  });

  it("keeps keys apart", async () => {
    const flights = new SingleFlight<string>();
    const lead = vi.fn(async () => ({ result: "leader", shared: Promise.resolve("copy") }));
    await Promise.all(["a", "b", "a", "b"].map((key) => flights.run(key, 1000, lead, async () => "follower")));
    expect(lead).toHaveBeenCalledTimes(2);
  });

  it("releases followers with null when the leader throws, and rethrows to the leader's caller", async () => {
    const flights = new SingleFlight<string>();
    const call = deferred<never>();
    const leader = flights.run(
      "k",
      10_000,
      () => call.promise,
      async () => "unused",
    );
    const followers = Array.from({ length: 5 }, () =>
      flights.run(
        "k",
        10_000,
        async () => ({ result: "x", shared: Promise.resolve(null) }),
        async (shared) => `own call (shared ${shared})`,
      ),
    );
    call.reject(new Error("shard down"));
    await expect(leader).rejects.toThrow("shard down");
    expect(await Promise.all(followers)).toEqual(Array(5).fill("own call (shared null)"));
    expect(flights.size).toBe(0);
  });

  it("releases followers when the leader shares nothing (too large, not stored) or its copy fails", async () => {
    const flights = new SingleFlight<string>();
    const copy = deferred<string | null>();
    const leader = flights.run(
      "k",
      10_000,
      async () => ({ result: "leader", shared: copy.promise }),
      async () => "unused",
    );
    const follower = flights.run(
      "k",
      10_000,
      async () => ({ result: "x", shared: Promise.resolve(null) }),
      async (shared) => shared,
    );
    expect(await leader).toBe("leader");
    copy.reject(new Error("body broke"));
    expect(await follower).toBeNull();
  });

  /**
   * A leader for "k" that never answers, then (after `between`) a follower with a 500 ms bound:
   * what the follower was released with, undefined while it still waits.
   */
  function followerOfHungLeader(flights: SingleFlight<string>, between: () => void = () => {}): () => string | null | undefined {
    void flights.run(
      "k",
      500,
      () => new Promise<never>(() => {}),
      async () => "unused",
    );
    between();
    let released: string | null | undefined;
    void flights.run(
      "k",
      500,
      async () => ({ result: "x", shared: Promise.resolve(null) }),
      async (shared) => (released = shared),
    );
    return () => released;
  }

  it("never holds a follower past waitMs, even when the leader hangs", async () => {
    const flights = new SingleFlight<string>();
    const released = followerOfHungLeader(flights);
    await vi.advanceTimersByTimeAsync(499);
    expect(released()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(released()).toBeNull();
    // The flight is closed: the next caller leads anew.
    const lead = vi.fn(async () => ({ result: "new leader", shared: Promise.resolve("copy") }));
    expect(await flights.run("k", 500, lead, async () => "follower")).toBe("new leader");
    expect(lead).toHaveBeenCalledTimes(1);
  });

  it("opens a new flight once the last one has shared", async () => {
    const flights = new SingleFlight<string>();
    const lead = vi.fn(async () => ({ result: "leader", shared: Promise.resolve("copy") }));
    await flights.run("k", 1000, lead, async () => "follower");
    await flights.run("k", 1000, lead, async () => "follower");
    expect(lead).toHaveBeenCalledTimes(2);
  });

  it("a follower's bound is its own timer: a leader whose request was cancelled (its timer and call with it) holds no follower past waitMs", async () => {
    // workerd cancels a request's timers and I/O when the request is cancelled: clearAllTimers stands in for that here.
    const flights = new SingleFlight<string>();
    const released = followerOfHungLeader(flights, () => vi.clearAllTimers());
    await vi.advanceTimersByTimeAsync(500);
    expect(released()).toBeNull();
    // The lost flight is closed: the next caller leads, rather than waiting on it too.
    const lead = vi.fn(async () => ({ result: "new leader", shared: Promise.resolve("copy") }));
    expect(await flights.run("k", 500, lead, async () => "follower")).toBe("new leader");
    expect(flights.size).toBe(0);
  });
});
