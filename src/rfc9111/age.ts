/**
 * Owns the age calculation of RFC 9111 §4.2.3: corrected_initial_age when a response arrives and
 * current_age at any later instant.
 */
import type { EpochMillis, Millis, Seconds } from "../lib/units";
import { MAX_DELTA_SECONDS, parseAgeValue, parseHttpDate } from "./dates";
import type { StoredMeta } from "./types";

export interface ArrivalTiming {
  requestTime: EpochMillis;
  responseTime: EpochMillis;
}

/**
 * RFC 9110 §6.6.1: a recipient with a clock treats a response without a (valid) Date as dated when it
 * was received. deviation: several Date values (comma-joined, unparseable) are treated as no Date.
 */
export function dateValue(headers: Headers, responseTime: EpochMillis): EpochMillis {
  return parseHttpDate(headers.get("date")) ?? responseTime;
}

/**
 * RFC 9111 §4.2.3, in milliseconds:
 *   apparent_age = max(0, response_time - date_value)
 *   response_delay = response_time - request_time
 *   corrected_age_value = age_value + response_delay
 *   corrected_initial_age = max(apparent_age, corrected_age_value)
 */
export function correctedInitialAgeMillis(date: EpochMillis, ageHeader: string | null, timing: ArrivalTiming): Millis {
  const apparentAge = Math.max(0, timing.responseTime - date);
  const responseDelay = Math.max(0, timing.responseTime - timing.requestTime); // a clock step backwards adds nothing
  const correctedAgeValue = (parseAgeValue(ageHeader) ?? 0) * 1000 + responseDelay;
  return Math.min(Math.max(apparentAge, correctedAgeValue), MAX_DELTA_SECONDS * 1000);
}

/**
 * RFC 9111 §4.2.3: current_age = corrected_initial_age + resident_time, exact to the millisecond.
 * resident_time never counts below 0, so the age never decreases as `now` advances.
 */
export function currentAgeMillis(meta: Pick<StoredMeta, "initialAgeSeconds" | "responseTime">, now: EpochMillis): Millis {
  const residentTime = Math.max(0, now - meta.responseTime);
  return Math.round(meta.initialAgeSeconds * 1000) + residentTime; // round: initialAgeSeconds is ms / 1000
}

/** RFC 9111 §4.2.3 current_age in whole seconds (what the Age field carries, §5.1), at most 2^31. */
export function currentAgeSeconds(meta: StoredMeta, now: EpochMillis): Seconds {
  return Math.min(Math.floor(currentAgeMillis(meta, now) / 1000), MAX_DELTA_SECONDS);
}
