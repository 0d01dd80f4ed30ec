/** The demo origin's clock offset (POST /__clock), which the workers tests move with the worker's clock. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoOrigin, type DemoOrigin } from "../../../scripts/demo-origin";

let origin: DemoOrigin;
beforeAll(async () => {
  origin = await startDemoOrigin(0);
});
afterAll(() => origin.close());

const dateOf = async (path: string) => Date.parse((await fetch(`${origin.url}${path}`)).headers.get("date") ?? "");
const setOffset = async (value: string) => (await fetch(`${origin.url}/__clock?offset=${value}`, { method: "POST" })).status;

describe("demo origin clock offset", () => {
  it("sends Date the offset ahead of the wall clock, and back in step at offset 0", async () => {
    expect(await setOffset("3600000")).toBe(204);
    expect((await dateOf("/a")) - Date.now()).toBeGreaterThan(3_590_000);
    expect(await setOffset("0")).toBe(204);
    expect(Math.abs((await dateOf("/b")) - Date.now())).toBeLessThan(2_000);
  });

  it.each(["-1", "1.5", "abc", "1e400"])("refuses offset=%s and keeps the one it had", async (value) => {
    expect(await setOffset("120000")).toBe(204);
    expect(await setOffset(value)).toBe(400);
    expect((await dateOf("/c")) - Date.now()).toBeGreaterThan(110_000);
    await setOffset("0");
  });
});
