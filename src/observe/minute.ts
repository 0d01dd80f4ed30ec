/** Per-minute buckets: a bucket is named by the minute it starts (whole minutes since the epoch). */
import type { EpochMillis } from "../lib/units";

export type Minute = number;
export const MINUTE_MS = 60_000;
/** Buckets are kept at least a day (25 h: a day plus the hour a dashboard may look back past it). */
export const RETAIN_MINUTES = 25 * 60;

export const minuteOf = (at: EpochMillis): Minute => Math.floor(at / MINUTE_MS);
