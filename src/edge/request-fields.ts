/**
 * A request's fields as the edge path reads them. Every `Headers.get` or `has` is a call into the
 * runtime; a plain GET's hit asks about a handful of fields it does not carry (conditionals, Range,
 * Cache-Control, Pragma, Upgrade: issue 15). src/edge/incoming.ts reads every field name once anyway
 * (to drop the client's X-Cluster-* fields), and records there which of these names are present, so
 * asking about an absent one answers from that record. A present one, and any name not listed, is
 * read from the `Headers` itself.
 */
import type { FieldReader } from "../lib/field-reader";

/** The names whose absence is recorded, in lower case as `Headers` iterates them. */
const RECORDED = ["cache-control", "pragma", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range", "upgrade", "authorization", "cookie"] as const;

const BIT = new Map<string, number>(RECORDED.map((name, i) => [name, 1 << i]));

/** The bit that records `name` (a lower-case name as `Headers` iterates it), or 0 when it is not recorded. */
export function recordedBit(name: string): number {
  return BIT.get(name) ?? 0;
}

export class RequestFields implements FieldReader {
  /**
   * `present`: the `recordedBit` of every name `headers` holds, OR-ed together. The `Headers` must not
   * change after this is built (the edge never changes a request's fields in place: it builds new ones).
   */
  constructor(
    readonly headers: Headers,
    private readonly present: number,
  ) {}

  /** Reads every name of `headers` (once) to build the record. */
  static of(headers: Headers): RequestFields {
    let present = 0;
    for (const name of headers.keys()) present |= recordedBit(name);
    return new RequestFields(headers, present);
  }

  has(name: string): boolean {
    const bit = BIT.get(name);
    return bit === undefined ? this.headers.has(name) : (this.present & bit) !== 0;
  }

  get(name: string): string | null {
    const bit = BIT.get(name);
    return bit !== undefined && (this.present & bit) === 0 ? null : this.headers.get(name);
  }
}
