import type { EpochMillis } from "./units";

/**
 * Where time comes from. Nothing below the composition root reads the wall clock itself: every Durable
 * Object and flow is handed a Clock (src/index.ts builds the one they share), so a test can move time
 * instead of sleeping, and two reads of "now" in one decision come from one place.
 */
export interface Clock {
  now(): EpochMillis;
}
