/**
 * The exact cluster-side limiter for one rate class and context: sliding per-second and per-minute
 * windows, token grants (the lease primitive) and a FIFO shaping queue, as pure functions of a
 * JSON-serialisable state and the time.
 *
 * Why sliding windows: fixed windows admit up to twice the limit across a window edge, and the
 * promise is "at most perSecond in ANY one-second window". Each window keeps sparse counts in 100
 * buckets per window length (10 ms for the second, 600 ms for the minute), so the state stays
 * small at any rate. Counting is conservative: a bucket counts as inside the window if any part of
 * it is, so bucketing can only delay an admission (by at most one bucket, i.e. 1% of the window),
 * never add one.
 *
 * Why bookings at their latest instant: a grant with `holdMs` (an edge lease) may be used at any
 * instant in [granted, granted + holdMs], so it is booked at granted + holdMs and a new grant at g
 * is allowed only while fewer than `limit` bookings lie after g - window. Because grants are made
 * in time order, that single look-back covers every window the new grant could fall into, so the
 * bound is exact whenever the grants are used inside their hold; the price of holding is an
 * under-admission of holdMs / (window + holdMs) at saturation.
 */
import type { EpochMillis, Millis } from "../lib/units";

/** [bucket index or instant, count], ascending by the first element. */
export type Bucket = readonly [at: number, count: number];

export interface LimiterState {
  /** Latest `now` seen: time never runs backwards inside the state, which keeps grants ordered. */
  readonly clockMs: EpochMillis | null;
  /** Bookings per 10 ms bucket (bucket i covers [10i, 10i + 10)). */
  readonly second: readonly Bucket[];
  /** Bookings per 600 ms bucket. */
  readonly minute: readonly Bucket[];
  /** Queued reservations by admission instant, including ones already admitted (pruned lazily). */
  readonly queue: readonly Bucket[];
  /** Admission instant of the latest reservation; the next one is spaced from it. */
  readonly lastReservedMs: EpochMillis | null;
}

export interface RateLimits {
  readonly perSecond?: number | undefined;
  readonly perMinute?: number | undefined;
}

export interface Grant {
  readonly state: LimiterState;
  /** Tokens granted, 0..n. */
  readonly granted: number;
  /** When granted < n: how long until at least one more token could be granted; otherwise 0. */
  readonly retryAfterMs: Millis;
  /** The instant the grant is booked at (now + holdMs); hand it back to `release` for unused tokens. */
  readonly bookedAt: EpochMillis;
}

export type Reservation = { readonly state: LimiterState; readonly delayMs: Millis } | { readonly state: LimiterState; readonly rejected: true; readonly retryAfterMs: Millis };

export const emptyLimiterState: LimiterState = { clockMs: null, second: [], minute: [], queue: [], lastReservedMs: null };

const BUCKETS_PER_WINDOW = 100;
type WindowKey = "second" | "minute";
const WINDOWS: readonly { key: WindowKey; baseMs: Millis; limitOf: (l: RateLimits) => number | undefined }[] = [
  { key: "second", baseMs: 1000, limitOf: (l) => l.perSecond },
  { key: "minute", baseMs: 60_000, limitOf: (l) => l.perMinute },
];

interface Rule {
  readonly key: WindowKey;
  readonly capacity: number;
  readonly widthMs: Millis;
  readonly bucketMs: Millis;
}

/**
 * A limit as whole requests per window. A fractional limit rounds down (never over-admits); a
 * limit below 1 (reachable through rate shaping) becomes one request per baseMs / limit, the only
 * way to honour its long-run rate with whole requests.
 */
function rulesFor(limits: RateLimits): Rule[] {
  const rules: Rule[] = [];
  for (const w of WINDOWS) {
    const limit = w.limitOf(limits);
    if (limit === undefined) continue;
    if (!(limit > 0) || !Number.isFinite(limit)) throw new RangeError(`rate limit must be a positive number, got ${limit}`);
    const bucketMs = w.baseMs / BUCKETS_PER_WINDOW;
    rules.push(limit >= 1 ? { key: w.key, capacity: Math.floor(limit), widthMs: w.baseMs, bucketMs } : { key: w.key, capacity: 1, widthMs: Math.ceil(w.baseMs / limit), bucketMs });
  }
  return rules;
}

/** Interval between queued admissions: the slowest long-run rate among the limits, so the queue never runs into a window wall. */
export function spacingMs(limits: RateLimits): Millis {
  let spacing = 0;
  for (const w of WINDOWS) {
    const limit = w.limitOf(limits);
    if (limit !== undefined && limit > 0) spacing = Math.max(spacing, w.baseMs / limit);
  }
  return spacing;
}

const bucketMsOf = (key: WindowKey): Millis => (key === "second" ? 1000 : 60_000) / BUCKETS_PER_WINDOW;

function sumFrom(buckets: readonly Bucket[], fromAt: number): number {
  let sum = 0;
  for (let i = buckets.length - 1; i >= 0 && buckets[i]![0] >= fromAt; i--) sum += buckets[i]![1];
  return sum;
}

function addAt(buckets: readonly Bucket[], at: number, n: number): Bucket[] {
  const out = buckets.slice();
  let i = out.length;
  while (i > 0 && out[i - 1]![0] > at) i--;
  if (i > 0 && out[i - 1]![0] === at) out[i - 1] = [at, out[i - 1]![1] + n];
  else out.splice(i, 0, [at, n]);
  return out;
}

/** Bookings that can no longer fall into any window a future grant checks. */
function pruned(buckets: readonly Bucket[], keepFrom: number): readonly Bucket[] {
  let i = 0;
  while (i < buckets.length && buckets[i]![0] < keepFrom) i++;
  return i === 0 ? buckets : buckets.slice(i);
}

/** How many more grants at instant g the rule allows. */
function room(state: LimiterState, rule: Rule, g: EpochMillis): number {
  return rule.capacity - sumFrom(state[rule.key], Math.floor((g - rule.widthMs) / rule.bucketMs));
}

/**
 * The earliest instant one more grant is allowed: past the last bucket whose suffix holds a full
 * window's capacity (-Infinity when the window is not full).
 */
function earliestUnder(state: LimiterState, rule: Rule): EpochMillis {
  const buckets = state[rule.key];
  let sum = 0;
  for (let i = buckets.length - 1; i >= 0; i--) {
    sum += buckets[i]![1];
    if (sum >= rule.capacity) return (buckets[i]![0] + 1) * rule.bucketMs + rule.widthMs;
  }
  return -Infinity;
}

/** Moves the state's clock to now (never back) and drops what has aged out or been admitted. */
function advance(state: LimiterState, now: EpochMillis, rules: readonly Rule[]): LimiterState {
  const clockMs = state.clockMs === null ? now : Math.max(state.clockMs, now);
  const keep = (key: WindowKey, baseMs: Millis): readonly Bucket[] => {
    const widthMs = Math.max(baseMs, ...rules.filter((r) => r.key === key).map((r) => r.widthMs));
    return pruned(state[key], Math.floor((clockMs - widthMs) / bucketMsOf(key)));
  };
  return { ...state, clockMs, second: keep("second", 1000), minute: keep("minute", 60_000), queue: state.queue.filter(([at]) => at > clockMs) };
}

/** Books n admissions at instant `at` in both windows (both are always kept, so a limit change finds its history). */
function book(state: LimiterState, at: EpochMillis, n: number): LimiterState {
  return {
    ...state,
    second: addAt(state.second, Math.floor(at / bucketMsOf("second")), n),
    minute: addAt(state.minute, Math.floor(at / bucketMsOf("minute")), n),
  };
}

/**
 * Grants up to n tokens at `now`, each usable until now + holdMs (0 = used at once). Fewer are
 * granted near the limit, none while reservations are queued (the queue goes first).
 */
export function tryAcquire(state: LimiterState, now: EpochMillis, n: number, limits: RateLimits, holdMs: Millis = 0): Grant {
  const rules = rulesFor(limits);
  const s = advance(state, now, rules);
  const g = s.clockMs ?? now;
  const bookedAt = g + Math.max(0, holdMs);
  const queuedUntil = s.queue.length > 0 ? s.queue[s.queue.length - 1]![0] : null;
  if (queuedUntil !== null) return { state: s, granted: 0, retryAfterMs: Math.ceil(queuedUntil - g), bookedAt };
  let granted = Math.max(0, Math.floor(n));
  for (const rule of rules) granted = Math.min(granted, Math.max(0, room(s, rule, g)));
  const next = granted > 0 ? book(s, bookedAt, granted) : s;
  if (granted >= n) return { state: next, granted, retryAfterMs: 0, bookedAt };
  const earliest = Math.max(...rules.map((r) => earliestUnder(next, r)));
  return { state: next, granted, retryAfterMs: Math.max(1, Math.ceil(earliest - g)), bookedAt };
}

/**
 * Queue mode: the request is admitted at now + delayMs, where admission instants are spaced at
 * the class rate (shaping, not bursts) and checked against both windows; a delay beyond maxWaitMs
 * is a rejection, with the wait after which a retry would fit (if nothing else queues meanwhile).
 */
export function reserve(state: LimiterState, now: EpochMillis, limits: RateLimits, maxWaitMs: Millis): Reservation {
  const rules = rulesFor(limits);
  const s = advance(state, now, rules);
  let at = s.clockMs ?? now;
  if (s.lastReservedMs !== null) at = Math.max(at, s.lastReservedMs + spacingMs(limits));
  for (const rule of rules) at = Math.max(at, earliestUnder(s, rule));
  const delayMs = at - now;
  if (delayMs > maxWaitMs) return { state: s, rejected: true, retryAfterMs: Math.max(1, Math.ceil(delayMs - maxWaitMs)) };
  const booked = book(s, at, 1);
  const queue = at > (s.clockMs ?? now) ? addAt(booked.queue, at, 1) : booked.queue;
  return { state: { ...booked, queue, lastReservedMs: at }, delayMs };
}

/**
 * Gives back n unused tokens of a grant booked at `bookedAt`. Only the holder may call it, once,
 * and must not use those tokens afterwards; a grant that has aged out of the state is ignored.
 */
export function release(state: LimiterState, bookedAt: EpochMillis, n: number): LimiterState {
  const take = (key: WindowKey): readonly Bucket[] => {
    const at = Math.floor(bookedAt / bucketMsOf(key));
    return state[key].flatMap((b): Bucket[] => (b[0] !== at ? [b] : b[1] > n ? [[at, b[1] - n]] : []));
  };
  return n > 0 ? { ...state, second: take("second"), minute: take("minute") } : state;
}

/** Queued requests not yet admitted at `now`. */
export function backlog(state: LimiterState, now: EpochMillis): number {
  return state.queue.reduce((sum, [at, count]) => (at > now ? sum + count : sum), 0);
}

/**
 * Bookings in the window ending at now, to bucket precision: admissions, plus leased tokens whose
 * hold ends in the window (a lease counts when it expires, used or not).
 */
export function currentRate(state: LimiterState, now: EpochMillis): { perSecond: number; perMinute: number } {
  const inWindow = (key: WindowKey, widthMs: Millis): number => {
    const b = bucketMsOf(key);
    const from = Math.floor((now - widthMs) / b) + 1;
    const to = Math.floor(now / b);
    return state[key].reduce((sum, [at, count]) => (at >= from && at <= to ? sum + count : sum), 0);
  };
  return { perSecond: inWindow("second", 1000), perMinute: inWindow("minute", 60_000) };
}
