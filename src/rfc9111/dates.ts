/**
 * Owns the time-valued syntax of HTTP: HTTP-date (RFC 9110 §5.6.7) in its three forms, delta-seconds
 * with the 2^31 clamp (RFC 9111 §1.2.2) and the Age field value (RFC 9111 §5.1).
 */
import type { EpochMillis, Seconds } from "../lib/units";

/** RFC 9111 §1.2.2: delta-seconds too large to represent are sent and read as 2^31. */
export const MAX_DELTA_SECONDS: Seconds = 2 ** 31;

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MON = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// Recipients are lenient about case and a one-digit day; the field layout itself is strict.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{1,2}) ${MON} (\\d{4}) ${TIME} GMT$`, "i");
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{1,2})-${MON}-(\\d{2}) ${TIME} GMT$`, "i");
const ASCTIME_DATE = new RegExp(`^${DAY} ${MON} {1,2}(\\d{1,2}) ${TIME} (\\d{4})$`, "i");

interface DateParts {
  year: number;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

/** RFC 9110 §5.6.7: IMF-fixdate, obsolete RFC 850 and asctime forms; anything else → null. */
export function parseHttpDate(value: string | null): EpochMillis | null {
  if (value === null) return null;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) return fromParts({ day: m[1]!, month: m[2]!, year: Number(m[3]), hour: m[4]!, minute: m[5]!, second: m[6]! });
  m = RFC850_DATE.exec(text);
  if (m) return fromParts({ day: m[1]!, month: m[2]!, year: twoDigitYear(Number(m[3])), hour: m[4]!, minute: m[5]!, second: m[6]! });
  m = ASCTIME_DATE.exec(text);
  if (m) return fromParts({ month: m[1]!, day: m[2]!, hour: m[3]!, minute: m[4]!, second: m[5]!, year: Number(m[6]) });
  return null;
}

/**
 * RFC 9110 §5.6.7 asks to read a two-digit year more than 50 years in the future as the past century.
 * deviation: parsing takes no clock, so a fixed pivot is used instead: 00–69 → 20xx, 70–99 → 19xx.
 */
function twoDigitYear(yy: number): number {
  return yy < 70 ? 2000 + yy : 1900 + yy;
}

function fromParts(p: DateParts): EpochMillis | null {
  const month = MONTHS.indexOf(p.month.toLowerCase());
  const [day, hour, minute, second] = [Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)];
  if (p.year < 1000 || hour > 23 || minute > 59 || second > 60) return null; // 60: leap second (§5.6.7)
  const midnight = Date.UTC(p.year, month, day);
  if (day < 1 || new Date(midnight).getUTCDate() !== day) return null; // e.g. 31 Feb
  return midnight + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** RFC 9110 §5.6.7 IMF-fixdate of an instant (whole seconds). */
export function formatHttpDate(at: EpochMillis): string {
  return new Date(Math.floor(at / 1000) * 1000).toUTCString();
}

/** RFC 9111 §1.2.2: 1*DIGIT, clamped to 2^31; anything else (sign, fraction, empty) → null. */
export function parseDeltaSeconds(value: string): Seconds | null {
  const text = value.trim();
  if (!/^\d+$/.test(text)) return null;
  return Math.min(Number(text), MAX_DELTA_SECONDS);
}

/**
 * RFC 9111 §5.1 Age, as the RFC says to read it. Returns null when the field is absent, blank or invalid.
 * - Several values (a list, or the field split over two field lines, which `Headers` joins with ", "):
 *   "a cache encountering a message with a list-based Age field value SHOULD use the first member of the
 *   field value, discarding subsequent ones."
 * - "If the field value (after discarding additional members, as per above) is invalid (e.g., it contains
 *   something other than a non-negative integer), a cache SHOULD ignore the field." So `abc`, `-7200`,
 *   `7200.0` and `7200abc` count as no Age at all: the response keeps the freshness its other fields give.
 * - A valid value too large to represent is read as 2^31 (§1.2.2).
 */
export function parseAgeValue(value: string | null): Seconds | null {
  if (value === null) return null;
  const first = value.split(",")[0] ?? "";
  return parseDeltaSeconds(first);
}
