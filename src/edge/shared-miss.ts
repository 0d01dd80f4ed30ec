/**
 * What an edge single-flight leader shares with its followers, and how a follower answers from it.
 * The shared value is a stored, complete GET representation held whole in memory (so bounded by
 * `maxObjectBytes` and known in length up front); each follower's response is built from it for the
 * follower's own request (Range, validators, HEAD, Vary) by the one function that serves stored
 * objects, so a follower is answered exactly as an edge-tier hit of the same copy would be.
 */
import { concatBytes } from "../lib/bytes";
import type { EpochMillis } from "../lib/units";
import { evaluateReuse, selectVariant } from "../rfc9111";
import type { RequestLike, StoredMeta } from "../rfc9111/types";
import { CACHE_INFO_HEADER } from "../serve/internal-headers";
import { bodyFromBytes, respondFromStored } from "../serve/stored-response";

export interface SharedMiss {
  meta: StoredMeta;
  body: Uint8Array;
  /** Cache-Status as the shard answered the leader (upstream members and the shard's own). */
  cacheStatus: string | null;
  /** The shard's X-Cache-Info line (verbose), if any. */
  cacheInfo: string | null;
  /** The shard's part of X-Cluster-Trace. */
  trace: string;
}

/**
 * A request carrying its own cache directives (no-cache, max-age, only-if-cached, or Pragma) asks
 * something of the shard that another client's answer may not satisfy: it neither leads nor follows.
 */
export function mayShareFlight(headers: Headers): boolean {
  return !headers.has("cache-control") && !headers.has("pragma");
}

/** The body's declared length when followers may share it (a stored GET whose Content-Length fits `maxBytes`), else null. */
export function shareableLength(response: Response, edgeCopy: StoredMeta | null, maxBytes: number): number | null {
  if (edgeCopy === null || response.body === null) return null;
  const declared = response.headers.get("content-length");
  if (declared === null || !/^\d+$/.test(declared)) return null;
  const length = Number(declared);
  return length <= maxBytes ? length : null;
}

/**
 * Splits `body` into the client's stream and a whole copy. One pump reads the source at the shard's
 * pace and queues each chunk for the client: a client that reads slowly, or not at all, must not hold
 * the followers (a pass-through copy, and workerd's tee, both go at the reader's pace). The queue is
 * bounded because this is only used for a declared length within `maxBytes`; a body that runs past
 * it anyway is broken, and ends with an error for the client and no copy.
 */
export function copyWhole(body: ReadableStream<Uint8Array>, maxBytes: number): [ReadableStream<Uint8Array>, Promise<Uint8Array | null>] {
  let client!: ReadableStreamDefaultController<Uint8Array>;
  let clientGone = false;
  const toClient = new ReadableStream<Uint8Array>({
    start: (controller) => void (client = controller),
    cancel: () => void (clientGone = true),
  });
  const copy = (async (): Promise<Uint8Array | null> => {
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        total += r.value.byteLength;
        if (total > maxBytes) throw new Error("body longer than its declared length");
        chunks.push(r.value);
        if (!clientGone) client.enqueue(r.value);
      }
      if (!clientGone) client.close();
    } catch (error) {
      void reader.cancel().catch(() => {});
      if (!clientGone) client.error(error);
      return null;
    }
    return concatBytes(chunks, total);
  })();
  return [toClient, copy];
}

/**
 * A follower's response from the shared copy, or null when the copy does not answer its request:
 * another Vary variant, or a copy the follower may not reuse without the origin (RFC 9111 §4).
 */
export function followerResponse(shared: SharedMiss, req: RequestLike, now: EpochMillis): Response | null {
  if (selectVariant([{ meta: shared.meta }], req) === undefined) return null;
  if (evaluateReuse(shared.meta, req, now).kind === "revalidate") return null;
  const response = respondFromStored(shared.meta, bodyFromBytes(shared.body), req, now);
  if (shared.cacheStatus !== null) response.headers.set("cache-status", shared.cacheStatus);
  if (shared.cacheInfo !== null) response.headers.set(CACHE_INFO_HEADER, shared.cacheInfo);
  return response;
}
