/**
 * Framing a streamed response with its known length. RFC 9110 §8.6 / RFC 9111 §3.1: a response served
 * from cache keeps the stored Content-Length. On workerd a Response built from a JavaScript
 * ReadableStream (the shard's answer as it arrives over RPC, the edge's tee) is sent chunked whatever
 * its Content-Length header says; only a body of known length — bytes, or a FixedLengthStream's
 * readable side — is sent with Content-Length. This pipes such a body through a FixedLengthStream.
 */

import { declaredLength } from "../rfc9111";

/**
 * `response` with its body re-framed to the length it declares. A body that turns out shorter or longer
 * makes the FixedLengthStream error, so the client sees a broken transfer rather than a wrong body.
 */
export function withKnownLength(response: Response): Response {
  const length = declaredLength(response.headers);
  if (response.body === null || length === null) return response;
  const framed = new FixedLengthStream(length);
  void response.body.pipeTo(framed.writable).catch(() => {});
  return new Response(framed.readable, response);
}
