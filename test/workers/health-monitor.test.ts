/**
 * The HealthMonitor's probe loop against a clock the test holds: a HealthMonitor built over a real
 * Durable Object's storage (runInDurableObject) with its own clock, so time moves by assignment, in
 * both directions. Its decisions are src/health/active.ts's `probeDue` (unit-tested there); this
 * proves the object uses it, the clock-step guard included. The instants lie in 2100, so an alarm
 * they set never fires on its own during the test.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { HealthMonitor } from "../../durable/health-monitor";
import { monitorsSchema, poolsSchema } from "../../src/config/pools";
import { originCount, originUrl, uniquePath } from "../helpers/origin";

const T0 = Date.UTC(2100, 0, 1);
const INTERVAL_MS = 60_000;

it("probes at once when the clock steps back past the last probe, and sets its alarm for now, not for the old schedule", async () => {
  const node = uniquePath("step-back");
  const pools = poolsSchema.parse({ p: { nodes: [{ url: `${originUrl}${node}` }], monitors: ["web"] } });
  const monitors = monitorsSchema.parse({ web: { path: "/h", intervalSeconds: INTERVAL_MS / 1000 } });
  const stub = env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName(uniquePath("health")));
  await runInDurableObject(stub, async (_instance, state) => {
    let now = T0;
    const monitor = new HealthMonitor(state, env, { now: () => now });
    const probes = () => originCount(`${node}/h`);

    await monitor.configure(pools, monitors);
    expect(await state.storage.getAlarm()).toBe(now + 100); // never probed: due at once
    await monitor.alarm();
    expect(await probes()).toBe(1);
    expect(await state.storage.getAlarm()).toBe(T0 + INTERVAL_MS);

    now = T0 + INTERVAL_MS / 2;
    await monitor.alarm();
    expect(await probes()).toBe(1); // not due yet

    // The clock steps back an hour: the last probe now lies ahead. Waiting for it would leave the node unwatched for an hour.
    now = T0 - 3600_000;
    await monitor.configure(pools, monitors);
    expect(await state.storage.getAlarm()).toBe(now + 100);
    await monitor.alarm();
    expect(await probes()).toBe(2);
    expect(await state.storage.getAlarm()).toBe(now + INTERVAL_MS);
    await state.storage.deleteAlarm();
  });
});
