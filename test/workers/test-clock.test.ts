/**
 * The movable test clock (test/helpers/clock.ts) is the clock the worker and its Durable Objects read,
 * and the demo origin's Date moves with it: a test that moves time sees exactly what a test that slept would.
 */
import { describe, expect, it } from "vitest";
import { advanceTime, now } from "../helpers/clock";
import { fetchVia, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

describe("the test clock", () => {
  it("ages a stored response in the shard and the edge tier by the time moved, not by the time slept", async () => {
    const path = withQuery(uniquePath("clock-age"), { cc: "public, max-age=100" });
    const first = await fetchVia(path);
    expect(first.status).toBe(200);
    await advanceTime(40_000);
    const aged = await fetchVia(path);
    expect(Number(aged.headers.get("age"))).toBeGreaterThanOrEqual(40);
    expect(Number(aged.headers.get("age"))).toBeLessThan(45);
    expect(await originCount(path)).toBe(1);
    await advanceTime(61_000);
    const expired = await fetchVia(path);
    expect(await originCount(path)).toBe(2);
    // The origin's Date moved too: the refetched copy is new, not 101 s old.
    expect(Number(expired.headers.get("age") ?? 0)).toBeLessThan(5);
    expect(members(expired).shard?.params.hit).not.toBe(true);
  });

  it("moves the demo origin's Date header with the worker's clock", async () => {
    await advanceTime(3_600_000);
    const path = withQuery(uniquePath("clock-date"), { cc: "no-store" });
    const response = await fetchVia(path);
    const date = Date.parse(response.headers.get("date") ?? "");
    expect(Math.abs(date - now())).toBeLessThan(5_000);
    expect(date - Date.now()).toBeGreaterThan(3_500_000);
  });

  it("moves only forward", async () => {
    await expect(advanceTime(-1)).rejects.toThrow(RangeError);
    await expect(advanceTime(1.5)).rejects.toThrow(RangeError);
  });
});
