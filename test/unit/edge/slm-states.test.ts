import { describe, expect, it } from "vitest";
import { SlmStates } from "../../../src/edge/slm-states";

describe("SlmStates", () => {
  it("fetches at most once per memo period, keeps the last states when a fetch fails, and ignores unknown states", async () => {
    let calls = 0;
    let answer: () => Promise<{ states: Record<string, { state: unknown }> }> = async () => ({ states: { a: { state: "serious" }, b: { state: "melting" } } });
    const states = new SlmStates(() => {
      calls++;
      return answer();
    }, 5_000);
    expect(states.stateOf("a")).toBe("ok");
    await states.refresh(0);
    expect(states.refresh(4_999)).toBeNull();
    expect(calls).toBe(1);
    expect(states.stateOf("a")).toBe("serious");
    expect(states.stateOf("b")).toBe("ok");
    answer = async () => {
      throw new Error("SLM object down");
    };
    await states.refresh(5_000);
    expect(calls).toBe(2);
    expect(states.stateOf("a")).toBe("serious");
    answer = async () => ({ states: {} });
    await states.refresh(10_000);
    expect(states.stateOf("a")).toBe("ok");
  });
});
