/**
 * A structural diff of two config documents as written (not normalised: a default spelled out is a
 * change, which is what an operator reviewing a push wants to see). microdiff does the tree walk;
 * this module only shapes its output for people: rules are compared by name when every rule has a
 * unique one, so inserting a rule at the top reads as one added rule rather than every rule changed,
 * and paths are printed the way config errors print them (`rules[name=static].actions.ttl`).
 */
import diff from "microdiff";
import { formatPath } from "./errors";

export type ConfigChange = { op: "add"; path: string; after: unknown } | { op: "remove"; path: string; before: unknown } | { op: "change"; path: string; before: unknown; after: unknown };

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** Marks a key that stands for a rule's name, so the path prints as `rules[name=…]`. */
const RULE_KEY = "\u0000rule:";

function rulesByName(rules: unknown): unknown {
  if (!Array.isArray(rules)) return rules;
  const names = rules.map((rule) => (isRecord(rule) && typeof rule.name === "string" ? rule.name : null));
  if (names.some((name) => name === null) || new Set(names).size !== names.length) return rules;
  return Object.fromEntries(rules.map((rule, i) => [`${RULE_KEY}${names[i]}`, rule]));
}

/** Both documents keyed for diffing: rules by name when both sides have named rules, else as written. */
function comparable(before: Json, after: Json): [Json, Json] {
  const a = rulesByName(before.rules);
  const b = rulesByName(after.rules);
  if (!Array.isArray(before.rules) || !Array.isArray(after.rules) || Array.isArray(a) || Array.isArray(b)) return [before, after];
  return [
    { ...before, rules: a },
    { ...after, rules: b },
  ];
}

function printPath(path: readonly (string | number)[]): string {
  const out: (string | number)[] = [];
  let text = "";
  for (const key of path) {
    if (typeof key === "string" && key.startsWith(RULE_KEY)) {
      text = `${formatPath(out)}[name=${key.slice(RULE_KEY.length)}]`;
      out.length = 0;
      continue;
    }
    out.push(key);
  }
  if (text === "") return formatPath(out);
  return out.length === 0 ? text : `${text}${formatPath(out).replace(/^(?=[A-Za-z_$])/, ".")}`;
}

/** Every difference from `before` to `after`, in document order. Non-object documents compare as a whole. */
export function diffConfig(before: unknown, after: unknown): ConfigChange[] {
  if (!isRecord(before) || !isRecord(after)) return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ op: "change", path: "(root)", before, after }];
  const [a, b] = comparable(before, after);
  return diff(a, b).map((d): ConfigChange => {
    const path = printPath(d.path);
    if (d.type === "CREATE") return { op: "add", path, after: d.value };
    if (d.type === "REMOVE") return { op: "remove", path, before: d.oldValue };
    return { op: "change", path, before: d.oldValue, after: d.value };
  });
}

/** A one-line summary for the history: "no changes", or the changed paths (at most `limit`, then "and N more"). */
export function summariseChanges(changes: readonly ConfigChange[], limit = 5): string {
  if (changes.length === 0) return "no changes";
  const sign = { add: "+", remove: "-", change: "~" } as const;
  const shown = changes.slice(0, limit).map((c) => `${sign[c.op]}${c.path}`);
  return changes.length > limit ? `${shown.join(", ")} and ${changes.length - limit} more` : shown.join(", ");
}
