/**
 * Origin body faults on workerd (issue #11 findings 6 and 7): a body that stalls past
 * settings.originBodyIdleMs or is cut mid-way is aborted, never stored, and the client's body ends in
 * an error; Cache-Status says `stored` only for a response that is stored (size known to fit).
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { BASE, failOrigin, fetchVia, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const failing: string[] = [];
afterEach(async () => {
  for (const prefix of failing.splice(0)) await failOrigin(prefix, "off");
});

/** Reads the body to its end: "clean" with its length, or "error". */
async function bodyEnd(response: Response): Promise<"error" | number> {
  try {
    return (await response.arrayBuffer()).byteLength;
  } catch {
    return "error";
  }
}

describe("an origin body that stalls or breaks off", () => {
  it.each(["stall", "reset-body"] as const)("%s: the client's body ends in an error, nothing is stored, the next request refetches", async (mode) => {
    await putConfig({ settings: { originBodyIdleMs: 300 } });
    const path = uniquePath(`body-${mode}`);
    failing.push(path);
    await failOrigin(path, mode);
    const started = Date.now();
    const response = await SELF.fetch(`${BASE}${path}`);
    expect(response.status).toBe(200);
    expect(await bodyEnd(response)).toBe("error");
    expect(Date.now() - started).toBeLessThan(10_000); // aborted at the idle timeout, not when the origin gives up (60 s)
    await failOrigin(path, "off");
    const next = await fetchVia(path);
    expect(next.status).toBe(200);
    expect(next.text_).toMatch(/^demo origin: /);
    expect(await originCount(path)).toBe(2);
  });
});

describe("Cache-Status stored", () => {
  it("is said for a response whose Content-Length fits, by the shard and the edge", async () => {
    const path = withQuery(uniquePath("stored-known"), { size: "2000" });
    const response = await fetchVia(path);
    const { shard, edge } = members(response);
    expect(shard?.params.stored).toBe(true);
    expect(edge?.params.stored).toBe(true);
  });

  it("is not claimed for a body of unknown length that turns out too large (and indeed it is not stored)", async () => {
    await putConfig({ settings: { maxObjectBytes: 1000 } });
    const path = withQuery(uniquePath("stored-unknown"), { size: "5000", chunks: "5" });
    const response = await fetchVia(path);
    expect(response.text_.length).toBe(5000);
    const { shard, edge } = members(response);
    expect(shard?.params.stored).toBeUndefined();
    expect(edge?.params.stored).not.toBe(true);
    await fetchVia(path);
    expect(await originCount(path)).toBe(2);
  });
});
