/**
 * The per-request candidate index under the host/method memo: a memo entry's rules are split by
 * the first path segment every path of a rule must have (`api` for `/api/**`), and within each
 * split by the value of one header many of its rules require exactly (`x-tenant: acme`), so a
 * request is tested only against rules that can match its path and that header. Each rule lands in
 * exactly one list (memory stays linear in the rules); lists keep rule order and a `RuleCursor`
 * walks the few that apply as one ordered sequence, so first-match order is unchanged.
 */
import { ValueKind } from "./value-condition";
import type { CompiledRule } from "./compile";

/** Rules of one segment split: `generic` always apply; `byValue` only for the request's value of header `slot`. */
export interface Bucket {
  readonly generic: Uint32Array;
  /** The header slot `byValue` is keyed by; -1 when the bucket is not keyed. */
  readonly slot: number;
  readonly byValue: ReadonlyMap<string, Uint32Array>;
}

export interface Candidates {
  readonly anySegment: Bucket;
  readonly bySegment: ReadonlyMap<string, Bucket>;
}

export const EMPTY_LIST = new Uint32Array(0);
export const EMPTY_BUCKET: Bucket = { generic: EMPTY_LIST, slot: -1, byValue: new Map() };

/** Keying by a header pays off only when enough rules share it; below this the bucket stays one list. */
const MIN_KEYED_RULES = 8;

function exactHeader(rule: CompiledRule, slot: number): string | undefined {
  if (rule.headers === null) return undefined;
  for (const condition of rule.headers) if (condition.slot === slot && condition.kind === ValueKind.Exact) return condition.text;
  return undefined;
}

function bucketOf(rules: readonly CompiledRule[], indices: readonly number[]): Bucket {
  if (indices.length === 0) return EMPTY_BUCKET;
  const counts = new Map<number, number>();
  for (const index of indices) for (const condition of rules[index]!.headers ?? []) if (condition.kind === ValueKind.Exact) counts.set(condition.slot, (counts.get(condition.slot) ?? 0) + 1);
  let slot = -1;
  let best = MIN_KEYED_RULES - 1;
  for (const [s, count] of counts) if (count > best) [slot, best] = [s, count];
  if (slot === -1) return { generic: Uint32Array.from(indices), slot, byValue: EMPTY_BUCKET.byValue };
  const generic: number[] = [];
  const byValue = new Map<string, number[]>();
  for (const index of indices) {
    const value = exactHeader(rules[index]!, slot);
    if (value === undefined) generic.push(index);
    else byValue.set(value, [...(byValue.get(value) ?? []), index]);
  }
  return { generic: Uint32Array.from(generic), slot, byValue: new Map([...byValue].map(([value, list]) => [value, Uint32Array.from(list)])) };
}

/** Splits one memo entry's rule indices (in rule order) by first path segment, then by a shared exact header. */
export function indexCandidates(rules: readonly CompiledRule[], indices: readonly number[]): Candidates {
  const any: number[] = [];
  const bySegment = new Map<string, number[]>();
  for (const index of indices) {
    const segment = rules[index]!.segment;
    if (segment === null) any.push(index);
    else bySegment.set(segment, [...(bySegment.get(segment) ?? []), index]);
  }
  return { anySegment: bucketOf(rules, any), bySegment: new Map([...bySegment].map(([segment, list]) => [segment, bucketOf(rules, list)])) };
}

/** Walks up to four rule-ordered lists as one ascending sequence; reused across requests (no allocation). */
export class RuleCursor {
  readonly #lists: Uint32Array[] = [EMPTY_LIST, EMPTY_LIST, EMPTY_LIST, EMPTY_LIST];
  readonly #pos = new Int32Array(4);
  #count = 0;

  reset(): void {
    this.#count = 0;
  }

  add(list: Uint32Array): void {
    if (list.length === 0) return;
    this.#pos[this.#count] = 0;
    this.#lists[this.#count++] = list;
  }

  get empty(): boolean {
    return this.#count === 0;
  }

  /** The next rule index in rule order, or -1 when every list is done. */
  next(): number {
    let best = -1;
    let bestIndex = 0xffffffff;
    for (let k = 0; k < this.#count; k++) {
      const list = this.#lists[k]!;
      const at = this.#pos[k]!;
      if (at < list.length && list[at]! < bestIndex) {
        best = k;
        bestIndex = list[at]!;
      }
    }
    if (best === -1) return -1;
    this.#pos[best]!++;
    return bestIndex;
  }
}
