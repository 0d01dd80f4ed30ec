import { describe, expect, it } from "vitest";
import { awaitFlight, Flights } from "../../../durable/coalesce";

describe("Flights", () => {
  it("lets later requests join the open flight and see the leader's outcome", async () => {
    const flights = new Flights();
    const leader = flights.open("k");
    const waiterA = flights.join("k")!;
    const waiterB = flights.join("k")!;
    expect(waiterA).toBe(leader);
    expect(leader.waiters).toBe(2);
    flights.settle(leader, { kind: "not-shared" });
    await expect(waiterA.outcome).resolves.toEqual({ kind: "not-shared" });
    await expect(waiterB.outcome).resolves.toEqual({ kind: "not-shared" });
  });

  it("refuses a second leader for the same key and forgets a closed flight", () => {
    const flights = new Flights();
    const leader = flights.open("k");
    expect(() => flights.open("k")).toThrow(/already open/);
    flights.close("k", leader);
    expect(flights.join("k")).toBeUndefined();
    expect(flights.size).toBe(0);
  });

  it("does not let a stale leader close a newer flight for the same key", () => {
    const flights = new Flights();
    const old = flights.open("k");
    flights.close("k", old);
    const current = flights.open("k");
    flights.close("k", old);
    expect(flights.join("k")).toBe(current);
  });

  it("gives up waiting after the collapse timeout", async () => {
    const flights = new Flights();
    const flight = flights.open("k");
    await expect(awaitFlight(flight, 20)).resolves.toBe("timeout");
  });
});
