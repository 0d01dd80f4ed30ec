/**
 * Watching an origin response body to its end, so a node that sends headers and then drops the
 * connection (or sends fewer bytes than its Content-Length) counts as a failed node in passive
 * health, exactly like a refused connection. The bytes pass through unchanged, pulled no faster
 * than the consumer reads. A consumer that cancels (the client went away) is not the node's fault
 * and reports nothing.
 *
 * With `idleMs`, a body that sends nothing for that long while it is being read (an origin that
 * stalls mid-body) is aborted: the stream errors, so nobody stores it and the client's body ends in
 * an error rather than a clean, short end. The clock runs only while a reader waits, so a slow
 * client is never mistaken for a stalled origin.
 */

export type BodyEnd = { kind: "complete" } | { kind: "cut"; reason: string };

/** `response` with its body wrapped; `onEnd` is called once, when the body completes or is cut short. */
export function watchBody(response: Response, onEnd: (end: BodyEnd) => void, opts: { idleMs?: number } = {}): Response {
  if (response.body === null) return response;
  // With a content coding the runtime decodes the body, so the decoded length says nothing about Content-Length.
  const declared = response.headers.has("content-encoding") ? null : declaredLength(response.headers.get("content-length"));
  const reader = response.body.getReader();
  let received = 0;
  let ended = false;
  const end = (e: BodyEnd) => {
    if (ended) return;
    ended = true;
    onEnd(e);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await readWithin(reader, opts.idleMs);
        } catch (error) {
          end({ kind: "cut", reason: `body cut short after ${received} bytes: ${error instanceof Error ? error.message : String(error)}` });
          controller.error(error);
          return;
        }
        if (chunk.done) {
          if (declared !== null && received < declared) {
            end({ kind: "cut", reason: `body cut short: ${received} of ${declared} bytes` });
            controller.error(new Error(`origin body ended after ${received} of ${declared} bytes`));
            return;
          }
          end({ kind: "complete" });
          controller.close();
          return;
        }
        received += chunk.value.byteLength;
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        ended = true;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, response);
}

/** One read, or an error when nothing arrives within `idleMs` (the source is then cancelled). */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, idleMs: number | undefined): Promise<ReadableStreamReadResult<Uint8Array>> {
  if (idleMs === undefined || !(idleMs > 0)) return reader.read();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`origin body idle for ${idleMs} ms`)), idleMs)));
  try {
    return await Promise.race([reader.read(), idle]);
  } catch (error) {
    void reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function declaredLength(field: string | null): number | null {
  if (field === null || !/^\d{1,15}$/.test(field.trim())) return null;
  return Number(field.trim());
}
