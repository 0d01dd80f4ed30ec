/**
 * The one way a regular expression from config is compiled and matched: RE2 semantics through re2js
 * (a pure-JavaScript port of RE2), whose matching time is linear in the input whatever the pattern.
 * A backtracking engine (the JavaScript RegExp) can take exponential time on patterns such as
 * `^/(a+)+$` — one request would stall the isolate — and no syntactic heuristic (star height,
 * nested quantifiers) catches every such pattern, so config patterns never reach it.
 *
 * The price: RE2 syntax. Backreferences and lookaround, which need backtracking, are refused at
 * validation with the parser's reason; counted repetition is capped at 1000 (`{1001}` is refused).
 *
 * Every config field that holds a regex (rule path regexes, globs, monitor body checks, and any
 * later header or cookie condition) goes through `compileLinearRegex` / `linearRegexSchema`.
 */
import { RE2JS } from "re2js";
import * as z from "zod";

export interface LinearRegex {
  readonly source: string;
  /** True when the pattern matches anywhere in `input` (like RegExp#test), in time linear in its length. */
  test(input: string): boolean;
}

export type CompiledRegex = { ok: true; regex: LinearRegex } | { ok: false; reason: string };

/** Compiles `source` with RE2 semantics; a pattern RE2 cannot run in linear time (or cannot parse) comes back with the reason. */
export function compileLinearRegex(source: string): CompiledRegex {
  try {
    const compiled = RE2JS.compile(source);
    return { ok: true, regex: { source, test: (input) => compiled.test(input) } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `not a linear-time (RE2) regular expression: ${message} (backreferences and lookaround are not supported)` };
  }
}

/** Like `compileLinearRegex`, for patterns validation has already accepted (a failure here is a programmer error). */
export function linearRegex(source: string): LinearRegex {
  const compiled = compileLinearRegex(source);
  if (!compiled.ok) throw new Error(`regex /${source}/ should have been refused by validation: ${compiled.reason}`);
  return compiled.regex;
}

/** A config string field holding a regex: refused at validation, with the reason, unless it compiles as RE2. */
export const linearRegexSchema = z.string().superRefine((source, ctx) => {
  const compiled = compileLinearRegex(source);
  if (!compiled.ok) ctx.addIssue({ code: "custom", message: compiled.reason });
});
