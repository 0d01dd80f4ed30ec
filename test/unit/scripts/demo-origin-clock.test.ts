/** The demo origin's per-request clock offset (X-Demo-Clock-Offset), which the workers tests send with their moved clock. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoOrigin, type DemoOrigin } from "../../../scripts/demo-origin";
import { CLOCK_OFFSET_FIELD } from "../../../scripts/lib/demo-clock";

let origin: DemoOrigin;
beforeAll(async () => {
  origin = await startDemoOrigin(0);
});
afterAll(() => origin.close());

const get = (path: string, offset?: string) => fetch(`${origin.url}${path}`, { headers: offset === undefined ? {} : { [CLOCK_OFFSET_FIELD]: offset } });
const dateOf = async (path: string, offset?: string) => Date.parse((await get(path, offset)).headers.get("date") ?? "");

describe("demo origin clock offset", () => {
  it("sends Date the request's offset ahead of the wall clock, and in step without one", async () => {
    expect((await dateOf("/a", "3600000")) - Date.now()).toBeGreaterThan(3_590_000);
    expect(Math.abs((await dateOf("/b")) - Date.now())).toBeLessThan(2_000);
    expect(Math.abs((await dateOf("/c", "0")) - Date.now())).toBeLessThan(2_000);
  });

  it("keeps one request's offset to itself: two requests at once, two clocks", async () => {
    const [ahead, inStep] = await Promise.all([dateOf("/d", "7200000"), dateOf("/e", "0")]);
    expect(ahead - inStep).toBeGreaterThan(7_190_000);
  });

  it.each(["-1", "1.5", "abc", "1e400", "99999999999999999999"])("refuses offset %s with a 400", async (value) => {
    const response = await get("/f", value);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(CLOCK_OFFSET_FIELD);
  });

  it("takes the field out before an echo shows what reached the origin", async () => {
    const echoed = (await (await get("/__echo/x", "5000")).json()) as { headers: Record<string, string> };
    expect(echoed.headers[CLOCK_OFFSET_FIELD]).toBeUndefined();
    expect(echoed.headers.host).toBeDefined();
  });
});
