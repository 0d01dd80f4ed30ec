/**
 * Edits of one resource in a config document as written (raw JSON, not the parsed form, so the rest
 * of the document is kept exactly as its author wrote it): a pool node's state, one rule added or
 * removed by name. Each returns the edited document or why it cannot be done; the caller validates
 * the result with the full schema before anything is stored.
 */
import { err, ok, type Result } from "../lib/result";
import type { NodeState } from "./pools";

type Json = Record<string, unknown>;

export type EditProblem = { status: 400 | 404 | 409; message: string };

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Sets one node's state. `node` is the node's URL as configured or its index in the pool (as text,
 * from a URL path). Setting the state a node already has is a 409, so a retried call is visible.
 */
export function setNodeState(doc: unknown, pool: string, node: string, state: NodeState): Result<{ doc: Json; url: string; was: NodeState }, EditProblem> {
  if (!isRecord(doc)) return err({ status: 409, message: "the stored config is not a JSON object" });
  const pools = isRecord(doc.pools) ? doc.pools : {};
  const entry = Object.hasOwn(pools, pool) ? pools[pool] : undefined;
  if (!isRecord(entry) || !Array.isArray(entry.nodes)) return err({ status: 404, message: `no pool "${pool}" (pools: ${Object.keys(pools).join(", ") || "none"})` });
  const nodes = entry.nodes as unknown[];
  const index = /^\d+$/.test(node) ? Number(node) : nodes.findIndex((n) => isRecord(n) && n.url === node);
  const target = nodes[index];
  if (!isRecord(target)) return err({ status: 404, message: `pool "${pool}" has no node ${node} (nodes: ${nodes.map((n, i) => `${i}=${isRecord(n) ? String(n.url) : "?"}`).join(", ")})` });
  const was = (typeof target.state === "string" ? target.state : "active") as NodeState;
  if (was === state) return err({ status: 409, message: `node ${String(target.url)} of pool "${pool}" is already ${state}` });
  const edited = nodes.map((n, i) => (i === index ? { ...target, state } : n));
  return ok({ doc: { ...doc, pools: { ...pools, [pool]: { ...entry, nodes: edited } } }, url: String(target.url), was });
}

/** Adds a named rule at `position` (0 = first; default last). A rule without a name, or with a taken one, is refused. */
export function addRule(doc: unknown, rule: unknown, position?: number): Result<{ doc: Json; name: string; position: number }, EditProblem> {
  if (!isRecord(doc)) return err({ status: 409, message: "the stored config is not a JSON object" });
  if (!isRecord(rule) || typeof rule.name !== "string" || rule.name === "") return err({ status: 400, message: "the rule needs a name (rules are added and removed by name)" });
  const rules = doc.rules === undefined ? [] : doc.rules;
  if (!Array.isArray(rules)) return err({ status: 409, message: "the stored config's rules are not a list" });
  if (rules.some((r) => isRecord(r) && r.name === rule.name)) return err({ status: 409, message: `a rule named "${rule.name}" exists already` });
  const at = position === undefined ? rules.length : position;
  if (!Number.isInteger(at) || at < 0 || at > rules.length) return err({ status: 400, message: `position must be an integer from 0 to ${rules.length}` });
  return ok({ doc: { ...doc, rules: [...rules.slice(0, at), rule, ...rules.slice(at)] }, name: rule.name, position: at });
}

/** Removes the rule named `name`. */
export function removeRule(doc: unknown, name: string): Result<{ doc: Json; position: number }, EditProblem> {
  if (!isRecord(doc)) return err({ status: 409, message: "the stored config is not a JSON object" });
  const rules = Array.isArray(doc.rules) ? doc.rules : [];
  const position = rules.findIndex((r) => isRecord(r) && r.name === name);
  if (position < 0) return err({ status: 404, message: `no rule named "${name}"` });
  return ok({ doc: { ...doc, rules: rules.filter((_, i) => i !== position) }, position });
}
