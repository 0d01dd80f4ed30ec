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

  it("dates a request by its own X-Test-Clock-Offset over the shared one, and ignores one that is no offset", async () => {
    expect(await setOffset("0")).toBe(204);
    const dated = async (offset: string) => Date.parse((await fetch(`${origin.url}/d`, { headers: { "x-test-clock-offset": offset } })).headers.get("date") ?? "") - Date.now();
    expect(await dated("7200000")).toBeGreaterThan(7_190_000);
    expect(await setOffset("3600000")).toBe(204);
    expect(Math.abs(await dated("0"))).toBeLessThan(2_000);
    for (const bad of ["-5", "1.5", "soon"]) expect(await dated(bad)).toBeGreaterThan(3_590_000);
    await setOffset("0");
  });
});
