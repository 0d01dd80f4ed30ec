/** The demo origin's hold mode (POST /__fail?mode=hold), which the workers tests use to show an answer did not wait for the origin. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoOrigin, type DemoOrigin } from "../../../scripts/demo-origin";

let origin: DemoOrigin;
beforeAll(async () => {
  origin = await startDemoOrigin(0);
});
afterAll(() => origin.close());

const setMode = async (prefix: string, mode: string) => (await fetch(`${origin.url}/__fail?mode=${mode}&prefix=${encodeURIComponent(prefix)}`, { method: "POST" })).status;
const countOf = (path: string) => origin.stats().requests[path] ?? 0;

async function until(check: () => boolean): Promise<void> {
  for (const end = Date.now() + 2_000; !check(); await new Promise((resolve) => setTimeout(resolve, 5))) if (Date.now() > end) throw new Error("never happened");
}

describe("demo origin hold mode", () => {
  it("keeps a request under the prefix unanswered until the mode changes, then answers it as usual", async () => {
    expect(await setMode("/held", "hold")).toBe(204);
    let answered = false;
    const pending = fetch(`${origin.url}/held/a`).then(async (response) => {
      answered = true;
      return { status: response.status, text: await response.text() };
    });
    await until(() => countOf("/held/a") === 1); // it arrived, and is counted
    // Another prefix is not held, and answering it gives the held one time to (wrongly) come back.
    expect((await fetch(`${origin.url}/free/b`)).status).toBe(200);
    expect(answered).toBe(false);
    expect(await setMode("/held", "off")).toBe(204);
    expect(await pending).toEqual({ status: 200, text: expect.stringMatching(/^demo origin: \/held\/a #\d+/) });
  });

  it("releases held requests when another mode replaces hold, and that mode applies to later requests", async () => {
    await setMode("/swap", "hold");
    const pending = fetch(`${origin.url}/swap/a`);
    await until(() => countOf("/swap/a") === 1);
    await setMode("/swap", "503");
    expect((await pending).status).toBe(200);
    expect((await fetch(`${origin.url}/swap/b`)).status).toBe(503);
    await setMode("/swap", "off");
  });
});
