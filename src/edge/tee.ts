/**
 * Copying a response body for the edge tier while it streams to the client: the client is never
 * slowed by the copy, and the copy gives up (rather than growing) once the body passes the size bound.
 */

/** Returns the stream to hand the client and a promise of the whole body (null if it exceeded `maxBytes` or failed). */
export function teeForEdge(body: ReadableStream<Uint8Array>, maxBytes: number): [ReadableStream<Uint8Array>, Promise<Uint8Array | null>] {
  let chunks: Uint8Array[] | null = [];
  let total = 0;
  let settle!: (body: Uint8Array | null) => void;
  const copy = new Promise<Uint8Array | null>((resolve) => (settle = resolve));
  const passThrough = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      if (chunks === null) return;
      total += chunk.byteLength;
      if (total > maxBytes) {
        chunks = null;
        settle(null);
        return;
      }
      chunks.push(chunk);
    },
    flush() {
      if (chunks === null) return;
      const whole = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        whole.set(chunk, offset);
        offset += chunk.byteLength;
      }
      settle(whole);
    },
  });
  body.pipeTo(passThrough.writable).catch(() => settle(null));
  return [passThrough.readable, copy];
}
