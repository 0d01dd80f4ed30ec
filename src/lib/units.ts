/**
 * Units of time used across shardcache. Durations in HTTP headers are whole seconds; instants are
 * milliseconds since the epoch (what `Date.now()` returns). The aliases are documentation: every
 * name that holds one of them ends in its unit or is typed with one of these, never a bare number.
 */
export type Seconds = number;
export type Millis = number;
/** Milliseconds since the Unix epoch. */
export type EpochMillis = number;

export const secondsToMillis = (s: Seconds): Millis => s * 1000;
export const millisToSeconds = (ms: Millis): Seconds => Math.floor(ms / 1000);
