/**
 * Dynamic rate shaping: a factor in [minFactor, 1] that scales a rate class's limits, stepped at
 * each SLM evaluation — multiplicative decrease while serious, hold while warning, additive recovery
 * while ok (AIMD, as in TCP: back off fast when the origin struggles, return carefully).
 */
import type { FollowSlm } from "../config/rates";
import type { RateLimits } from "./limiter";
import type { SlmState } from "../slm/window";

export type ShapingParams = Pick<FollowSlm, "minFactor" | "decreaseFactor" | "recoverStep">;

// Factors are rounded to this many decimals, so ten recoveries of 0.1 land on exactly 1, not 0.9999999999999999.
const PRECISION = 1e9;
const round = (x: number): number => Math.round(x * PRECISION) / PRECISION;

/** The factor after one evaluation in `state`. A factor out of range (e.g. minFactor was raised) is brought into it first. */
export function nextFactor(currentFactor: number, state: SlmState, follow: ShapingParams): number {
  const floor = Math.min(1, Math.max(follow.minFactor, Number.MIN_VALUE));
  const current = Number.isFinite(currentFactor) ? Math.min(1, Math.max(floor, currentFactor)) : 1;
  switch (state) {
    case "serious":
      return Math.max(floor, round(current * follow.decreaseFactor));
    case "warning":
      return current;
    case "ok":
      return Math.min(1, round(current + follow.recoverStep));
  }
}

/** The class's limits scaled by the factor; the limiter turns fractional results into whole requests per window. */
export function effectiveLimits(limits: RateLimits, factor: number): RateLimits {
  const f = factor > 0 && factor <= 1 ? factor : 1;
  return {
    perSecond: limits.perSecond === undefined ? undefined : limits.perSecond * f,
    perMinute: limits.perMinute === undefined ? undefined : limits.perMinute * f,
  };
}
