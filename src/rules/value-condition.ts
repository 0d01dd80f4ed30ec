/**
 * Conditions on one string value (a query parameter, header or cookie; a response header): present,
 * absent, exact, glob or regex. Compiled once per config version into a `ValueTest` whose common
 * shapes (exact, prefix, suffix, contains, `*`-only globs) are plain string operations; only a glob
 * with `?` and a regex run on the linear-time engine (src/lib/linear-regex.ts), so no value a client
 * or origin sends can make a condition take more than linear time.
 */
import * as z from "zod";
import { linearRegex, linearRegexSchema, type LinearRegex } from "../lib/linear-regex";

/** Patterns and exact values longer than this are refused: they cannot be meant, and they bound the work per value. */
export const MAX_CONDITION_LENGTH = 1024;

const bounded = z.string().max(MAX_CONDITION_LENGTH, `at most ${MAX_CONDITION_LENGTH} characters`);

/**
 * `true` = present, `false` = absent, a string = exactly that value (the original form, unchanged);
 * `{ present }`, `{ exact }`, `{ glob }` (`*` any run of characters, `?` one; case-sensitive) and
 * `{ regex }` (RE2 syntax, unanchored like RegExp#test: anchor with ^ and $).
 */
export const valueConditionSchema = z.union(
  [
    z.boolean().describe("true: present (any value, also empty); false: absent."),
    bounded.describe("Exactly this value (case-sensitive)."),
    z.strictObject({ present: z.boolean() }),
    z.strictObject({ exact: bounded }),
    z.strictObject({ glob: bounded.describe("* any run of characters (also none), ? exactly one; case-sensitive; the whole value must match.") }),
    z.strictObject({ regex: bounded.pipe(linearRegexSchema).describe("RE2 syntax, matched in linear time; unanchored (use ^ and $); (?i) for case-insensitive.") }),
  ],
  { error: 'expected true (present), false (absent), an exact string, { "exact": … }, { "glob": … } or { "regex": … }' },
);

export type ValueCondition = z.output<typeof valueConditionSchema>;

/** How a compiled value test decides (a const object rather than an enum: erasable). */
export const ValueKind = {
  Present: 0,
  Absent: 1,
  Exact: 2,
  Prefix: 3,
  Suffix: 4,
  /** `*`-only glob: starts with `text`, ends with `last`, and holds `middle` in order between them. */
  Pieces: 5,
  /** Glob with `?`, or a regex: `text` is a literal prefix every match starts with ("" when none). */
  Regex: 6,
} as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

export interface ValueTest {
  kind: ValueKind;
  text: string;
  last: string;
  middle: readonly string[];
  regex: LinearRegex | null;
}

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");

/** A value glob as an anchored RE2 source: `*` any run (also empty), `?` exactly one character; `.` matches newlines too. */
export function valueGlobToRegExpSource(glob: string): string {
  let source = "";
  for (const c of glob) source += c === "*" ? ".*" : c === "?" ? "." : escapeRegExp(c);
  return `(?s)^${source}$`;
}

const test = (kind: ValueKind, text = "", last = "", middle: readonly string[] = [], regex: LinearRegex | null = null): ValueTest => ({ kind, text, last, middle, regex });

function compileGlob(glob: string): ValueTest {
  if (glob.includes("?")) return test(ValueKind.Regex, glob.slice(0, glob.search(/[*?]/)), "", [], linearRegex(valueGlobToRegExpSource(glob)));
  const pieces = glob.split("*");
  if (pieces.length === 1) return test(ValueKind.Exact, glob);
  if (pieces.length === 2 && pieces[1] === "") return test(ValueKind.Prefix, pieces[0]!);
  if (pieces.length === 2 && pieces[0] === "") return test(ValueKind.Suffix, pieces[1]!);
  return test(
    ValueKind.Pieces,
    pieces[0]!,
    pieces[pieces.length - 1]!,
    pieces.slice(1, -1).filter((p) => p !== ""),
  );
}

export function compileValueCondition(condition: ValueCondition): ValueTest {
  if (condition === true) return test(ValueKind.Present);
  if (condition === false) return test(ValueKind.Absent);
  if (typeof condition === "string") return test(ValueKind.Exact, condition);
  if ("present" in condition) return test(condition.present ? ValueKind.Present : ValueKind.Absent);
  if ("exact" in condition) return test(ValueKind.Exact, condition.exact);
  if ("glob" in condition) return compileGlob(condition.glob);
  return test(ValueKind.Regex, "", "", [], linearRegex(condition.regex));
}

/**
 * `*`-only glob pieces: the first and last are anchored, the middle ones are found leftmost in
 * order, which is exact for `*` (any later occurrence leaves no more room than the leftmost one).
 */
function piecesMatch(value: string, t: ValueTest): boolean {
  if (value.length < t.text.length + t.last.length || !value.startsWith(t.text) || !value.endsWith(t.last)) return false;
  let from = t.text.length;
  const end = value.length - t.last.length;
  for (let i = 0; i < t.middle.length; i++) {
    const at = value.indexOf(t.middle[i]!, from);
    if (at === -1 || at + t.middle[i]!.length > end) return false;
    from = at + t.middle[i]!.length;
  }
  return true;
}

/** Whether `value` (null: absent) meets the test; an absent value meets only `Absent`. */
export function valueMeets(value: string | null, t: ValueTest): boolean {
  if (value === null) return t.kind === ValueKind.Absent;
  switch (t.kind) {
    case ValueKind.Present:
      return true;
    case ValueKind.Absent:
      return false;
    case ValueKind.Exact:
      return value === t.text;
    case ValueKind.Prefix:
      return value.startsWith(t.text);
    case ValueKind.Suffix:
      return value.endsWith(t.text);
    case ValueKind.Pieces:
      return piecesMatch(value, t);
    case ValueKind.Regex:
      return value.startsWith(t.text) && t.regex!.test(value);
  }
}
