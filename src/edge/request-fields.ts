/**
 * A client request's fields as everything at the edge reads them (rules, cache key, rate contexts,
 * the RFC 9111 policy): the client's X-Cluster-* fields are hidden unless the request carries the
 * cluster token, and the token itself is always hidden. Every request that leaves the edge has them
 * removed the same way (src/edge/forwarding.ts; the origin fetch removes every internal field), so
 * no client can pose as the cluster.
 *
 * Why a gate instead of removing them on arrival: finding them means iterating the field names, and
 * in workerd `Headers.keys()` copies and sorts the whole field list, which cost more than anything
 * else the edge does on a hit (about 9 µs for a browser's dozen fields, issue 15). A hit reads only
 * the fields it names, so hiding those names costs a comparison; the iteration happens only on the
 * paths that forward the request.
 */
import type { FieldReader } from "../lib/field-reader";
import { sameSecret } from "../lib/same-secret";
import { CLUSTER_TOKEN_HEADER, clientFieldStays, INTERNAL_PREFIX } from "../serve/internal-headers";

/** Whether `name` (any case) is an X-Cluster-* field name. */
export function isInternalName(name: string): boolean {
  // First character first: almost every name a hit reads fails it.
  const first = name.charCodeAt(0) | 0x20;
  return first === 0x78 && name.length >= INTERNAL_PREFIX.length && name.slice(0, INTERNAL_PREFIX.length).toLowerCase() === INTERNAL_PREFIX;
}

export class RequestFields implements FieldReader {
  #trusted: boolean | undefined = undefined;

  /** `clusterToken`: the cluster's token (unset or empty: no client is trusted). */
  constructor(
    readonly headers: Headers,
    private readonly clusterToken: string | undefined,
  ) {}

  /**
   * Whether the client carried the cluster token: its X-Cluster-* fields then count (read when first
   * asked; compared without an early exit, src/lib/same-secret.ts).
   */
  get trusted(): boolean {
    if (this.#trusted === undefined) {
      const token = this.clusterToken;
      const sent = token === undefined || token === "" ? null : this.headers.get(CLUSTER_TOKEN_HEADER);
      this.#trusted = sent !== null && sameSecret(sent, token!);
    }
    return this.#trusted;
  }

  /** The same gate, with the same trust, over the fields a rule's request actions made from these. */
  over(headers: Headers): RequestFields {
    const fields = new RequestFields(headers, this.clusterToken);
    fields.#trusted = this.trusted;
    return fields;
  }

  /**
   * Whether the edge must not read or forward `name` from this client: the rule every exit applies
   * (`clientFieldStays`), after a first-character test that almost every name a hit reads fails.
   */
  hides(name: string): boolean {
    return isInternalName(name) && clientFieldStays(name.toLowerCase(), this.trusted);
  }

  has(name: string): boolean {
    return !this.hides(name) && this.headers.has(name);
  }

  get(name: string): string | null {
    return this.hides(name) ? null : this.headers.get(name);
  }
}
