/**
 * Origin faults on workerd (issue #11 findings 3 and 4, issue #14 item 6): what an origin sends never
 * makes a shard throw; grace serves a stale copy when the origin is unreachable, resets, times out or
 * answers 5xx, never for responses that forbid it; a 5xx never replaces a usable stored copy.
 */
import { afterEach, describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { failOrigin, fetchVia, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const failing: string[] = [];
async function fail(prefix: string, mode: Parameters<typeof failOrigin>[1]): Promise<void> {
  failing.push(prefix);
  await failOrigin(prefix, mode);
}
afterEach(async () => {
  for (const prefix of failing.splice(0)) await failOrigin(prefix, "off");
});

const trace = (response: Response) => response.headers.get("x-cluster-trace") ?? "";

describe("an origin status outside 200-599", () => {
  it("is a 502 with a reason after exactly one origin fetch, and no shard is marked failed", async () => {
    await putConfig({ settings: { trace: true, verbose: true } });
    const path = withQuery(uniquePath("status999"), { status: "999" });
    for (let i = 0; i < 3; i++) {
      const response = await fetchVia(path);
      expect(response.status).toBe(502);
      expect(response.text_).toMatch(/status 999 is outside 200-599/);
      expect(trace(response)).not.toMatch(/FAIL/);
    }
    // One fetch per request (not one per fallback shard plus one direct).
    expect(await originCount(path)).toBe(3);
  });
});

/** Stores `path` (max-age=1 plus `cc`), waits until it is stale, then makes the origin fail with `mode`. */
async function storedThenStale(name: string, cc: string, mode: Parameters<typeof failOrigin>[1]): Promise<string> {
  const prefix = uniquePath(name);
  const path = withQuery(prefix, { cc: `public, max-age=1${cc}` });
  const first = await fetchVia(path);
  expect(first.status).toBe(200);
  await advanceTime(2100);
  await fail(prefix, mode);
  return path;
}

describe("grace: a stale copy answers while the origin fails", () => {
  it.each(["reset", "503", "500", "hang"] as const)("origin %s: the stale copy is served, marked grace", async (mode) => {
    await putConfig({ settings: { trace: true, verbose: true, shardTimeoutMs: 1500 } });
    const path = await storedThenStale(`grace-${mode}`, "", mode);
    const response = await fetchVia(path);
    expect(response.status).toBe(200);
    expect(response.text_).toMatch(/^demo origin: /);
    expect(members(response).shard?.params.detail).toBe("grace");
  });

  it.each([", must-revalidate", ", proxy-revalidate", ", no-cache"])("never for a response with%s", async (cc) => {
    await putConfig({ settings: { verbose: true } });
    const path = await storedThenStale("grace-forbidden", cc, "503");
    const response = await fetchVia(path);
    expect(response.status).toBeGreaterThanOrEqual(500);
  });

  it("never for an s-maxage response (implies proxy-revalidate for a shared cache)", async () => {
    await putConfig({ settings: { verbose: true } });
    const prefix = uniquePath("grace-smaxage");
    const path = withQuery(prefix, { cc: "public, s-maxage=1" });
    expect((await fetchVia(path)).status).toBe(200);
    await advanceTime(2100);
    await fail(prefix, "reset");
    expect((await fetchVia(path)).status).toBe(502);
  });

  it("not once grace is over (graceSeconds: 1)", async () => {
    await putConfig({ settings: { graceSeconds: 1 } });
    const path = await storedThenStale("grace-over", "", "reset");
    expect((await fetchVia(path)).status).toBe(502);
  });

  it("a cacheable 5xx never replaces the stored copy within grace", async () => {
    await putConfig({ settings: { verbose: true } });
    const path = await storedThenStale("grace-500", "", "500");
    for (let i = 0; i < 3; i++) {
      const response = await fetchVia(path);
      expect(response.status).toBe(200);
      expect(response.text_).toMatch(/^demo origin: /);
    }
  });

  it("without a stored copy, the origin's 5xx reaches the client as it is", async () => {
    const prefix = uniquePath("no-copy-500");
    await fail(prefix, "500");
    const response = await fetchVia(prefix);
    expect(response.status).toBe(500);
    expect(response.text_).toMatch(/origin error/);
  });
});
