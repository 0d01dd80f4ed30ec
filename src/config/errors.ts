/**
 * Config errors as users read them: zod issues flattened into `{ path, message }` with paths like
 * `rules[3].match.headers["x-debug"]`, one error per unknown key, unions reduced to the branch the
 * input was evidently aiming at, plus the cross-field checks a per-field schema cannot express.
 */
import type { z } from "zod";

export interface ConfigError {
  /** `rules[3].match.path`; "(root)" for the document itself. */
  path: string;
  message: string;
}

type Path = readonly PropertyKey[];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function formatPath(path: Path): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && IDENTIFIER.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(root)" : out;
}

/** A union branch failed on shape (wrong type or wrong keys at its top) rather than on a nested value. */
const wrongShape = (issues: readonly z.core.$ZodIssue[]): boolean => issues.some((issue) => issue.path.length === 0 && (issue.code === "invalid_type" || issue.code === "unrecognized_keys" || issue.code === "invalid_value"));

function flatten(issue: z.core.$ZodIssue, base: Path, out: ConfigError[]): void {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case "unrecognized_keys":
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: "unknown key" });
      return;
    case "invalid_union": {
      // When exactly one branch had the right shape, its nested errors say far more than "invalid input".
      const plausible = issue.errors.filter((branch) => !wrongShape(branch));
      if (plausible.length === 1) {
        for (const inner of plausible[0]!) flatten(inner, path, out);
        return;
      }
      break;
    }
    case "invalid_key":
      out.push({ path: formatPath(path), message: `invalid key: ${issue.issues.map((inner) => inner.message).join("; ")}` });
      return;
  }
  out.push({ path: formatPath(path), message: issue.message });
}

export function zodIssuesToErrors(issues: readonly z.core.$ZodIssue[]): ConfigError[] {
  const out: ConfigError[] = [];
  for (const issue of issues) flatten(issue, [], out);
  return out;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A rule's reference must name an entry of its section, also when that section is empty or absent:
 * a rule pointing at nothing would otherwise validate and then silently fall back at request time.
 * A section that is present but not an object is the schema's error, not this one's.
 */
function checkReference(doc: Record<string, unknown>, section: string, name: unknown, path: Path, what: string, out: ConfigError[]): void {
  const entries = doc[section] ?? {};
  if (typeof name !== "string" || !isRecord(entries) || Object.hasOwn(entries, name)) return;
  const known = Object.keys(entries);
  out.push({ path: formatPath(path), message: `unknown ${what} "${name}" (${known.length === 0 ? `no ${section} are configured` : `${section}: ${known.join(", ")}`})` });
}

/**
 * Checks that span fields: unique rule names, and pool (rules and `settings.defaultPool`) / rate class /
 * SLM class references. Reads
 * the raw input defensively (it may be invalid elsewhere) so these errors are reported alongside
 * the schema's rather than only after those are fixed.
 */
export function crossCheck(input: unknown): ConfigError[] {
  const out: ConfigError[] = [];
  if (!isRecord(input)) return out;
  if (isRecord(input.settings)) checkReference(input, "pools", input.settings.defaultPool, ["settings", "defaultPool"], "pool", out);
  if (!Array.isArray(input.rules)) return out;
  const firstByName = new Map<string, number>();
  input.rules.forEach((rule: unknown, i) => {
    if (!isRecord(rule)) return;
    if (typeof rule.name === "string") {
      const first = firstByName.get(rule.name);
      if (first === undefined) firstByName.set(rule.name, i);
      else out.push({ path: formatPath(["rules", i, "name"]), message: `duplicate rule name "${rule.name}" (first used by rules[${first}])` });
    }
    const match = rule.match;
    if (isRecord(match) && isRecord(match.slm)) for (const name of Object.keys(match.slm)) checkReference(input, "slmClasses", name, ["rules", i, "match", "slm", name], "SLM class", out);
    const actions = rule.actions;
    if (!isRecord(actions)) return;
    checkReference(input, "pools", actions.pool, ["rules", i, "actions", "pool"], "pool", out);
    const rateClass = actions.rateClass;
    if (isRecord(rateClass)) checkReference(input, "rateClasses", rateClass.name, ["rules", i, "actions", "rateClass", "name"], "rate class", out);
    checkReference(input, "slmClasses", actions.slmClass, ["rules", i, "actions", "slmClass"], "SLM class", out);
  });
  return out;
}
