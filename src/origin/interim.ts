/**
 * Interim (1xx) responses from an origin (RFC 9110 §15.2). workerd's fetch() does not skip them: an
 * origin that sends `103 Early Hints` before its final response makes fetch() resolve with the 103,
 * whose body is the rest of the connection — the final response's raw HTTP/1.1 bytes (status line,
 * fields, framed body). See src/rfc9111/README.md "Runtime limits" for the evidence.
 *
 * `finalAfterInterim` reads that byte stream as HTTP/1.1 (RFC 9112): it skips further interim
 * responses and returns the final one with its body de-framed (Content-Length, chunked, or until the
 * connection closes). Bounded: the fields of each response head, and the number of interim responses.
 * Web-standard streams only, so it is unit-tested in Node.
 */

/** RFC 9110 §15.2: 1xx other than 101 (a protocol switch, which this cache never asks for). */
export function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

export interface InterimLimits {
  /** Bytes of one response head (status line + fields). */
  maxHeadBytes: number;
  /** Interim responses tolerated before the final one. */
  maxInterim: number;
}

const DEFAULT_LIMITS: InterimLimits = { maxHeadBytes: 64 * 1024, maxInterim: 8 };
const CRLF = [13, 10];
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;

/** Thrown for bytes that are not a valid HTTP/1.1 response (the caller reports a bad origin, 502). */
export class OriginFramingError extends Error {}

/** Field bytes as text, one character per byte (RFC 9110 §5.5: fields are octets; obs-text stays opaque). */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** Buffered reads over a byte stream: whole lines for heads, runs of bytes for bodies. */
class ByteSource {
  #buffer = new Uint8Array(0);
  #ended = false;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const { done, value } = await this.reader.read();
    if (done) {
      this.#ended = true;
      return false;
    }
    const joined = new Uint8Array(this.#buffer.byteLength + value.byteLength);
    joined.set(this.#buffer);
    joined.set(value, this.#buffer.byteLength);
    this.#buffer = joined;
    return true;
  }

  /** The next CRLF- (or LF-) terminated line, without its terminator; null at the end of the stream. */
  async line(maxBytes: number): Promise<string | null> {
    for (;;) {
      const lf = this.#buffer.indexOf(CRLF[1] as number);
      if (lf >= 0) {
        const end = lf > 0 && this.#buffer[lf - 1] === CRLF[0] ? lf - 1 : lf;
        const text = latin1(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(lf + 1);
        return text;
      }
      if (this.#buffer.byteLength > maxBytes) throw new OriginFramingError("response head too large");
      if (!(await this.#fill())) return null;
    }
  }

  /** Up to `max` bytes (at least one), or null at the end of the stream. */
  async some(max: number): Promise<Uint8Array | null> {
    if (this.#buffer.byteLength === 0 && !(await this.#fill())) return null;
    const out = this.#buffer.subarray(0, max);
    this.#buffer = this.#buffer.subarray(out.byteLength);
    return out;
  }

  cancel(): void {
    void this.reader.cancel().catch(() => {});
  }
}

interface Head {
  status: number;
  statusText: string;
  headers: Headers;
}

async function readHead(source: ByteSource, limits: InterimLimits): Promise<Head> {
  const statusLine = await source.line(limits.maxHeadBytes);
  const match = statusLine === null ? null : STATUS_LINE.exec(statusLine);
  if (match === null) throw new OriginFramingError("no status line after the interim response");
  const headers = new Headers();
  let bytes = statusLine?.length ?? 0;
  for (;;) {
    const line = await source.line(limits.maxHeadBytes);
    if (line === null) throw new OriginFramingError("response head ended early");
    if (line === "") break;
    bytes += line.length + 2;
    if (bytes > limits.maxHeadBytes) throw new OriginFramingError("response head too large");
    const field = FIELD_LINE.exec(line);
    if (field === null) throw new OriginFramingError("invalid field line"); // RFC 9112 §5: no obs-fold, no junk
    headers.append(field[1] as string, field[2] as string);
  }
  return { status: Number(match[1]), statusText: match[2] ?? "", headers };
}

/**
 * The final response carried in `interim`'s body. `method` is the request's: a HEAD answer has no body.
 * Throws OriginFramingError when the bytes are not a valid response.
 */
export async function finalAfterInterim(interim: Response, method: string, limits: InterimLimits = DEFAULT_LIMITS): Promise<Response> {
  if (interim.body === null) throw new OriginFramingError("interim response without the rest of the exchange");
  const source = new ByteSource(interim.body.getReader());
  try {
    let head = await readHead(source, limits);
    for (let seen = 1; isInterim(head.status); seen++) {
      if (seen >= limits.maxInterim) throw new OriginFramingError("too many interim responses");
      head = await readHead(source, limits);
    }
    if (head.status < 200 || head.status > 599) throw new OriginFramingError(`final status ${head.status} is not usable`);
    const body = bodyOf(head, source, method);
    // RFC 9112 §6.1: the framing was undone here, so the field describing it goes (Content-Length stays true).
    head.headers.delete("transfer-encoding");
    return new Response(body, { status: head.status, statusText: head.statusText, headers: head.headers });
  } catch (error) {
    source.cancel();
    throw error;
  }
}

/** RFC 9112 §6.3: the message body length, in order of precedence. */
function bodyOf(head: Head, source: ByteSource, method: string): ReadableStream<Uint8Array> | null {
  if (method === "HEAD" || head.status === 204 || head.status === 304) {
    source.cancel();
    return null;
  }
  const te = head.headers.get("transfer-encoding");
  if (te !== null) {
    const codings = te
      .split(",")
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== "");
    if (codings.length !== 1 || codings[0] !== "chunked") throw new OriginFramingError(`transfer coding "${te}" is not supported`);
    return chunkedBody(source, head);
  }
  const length = head.headers.get("content-length");
  if (length !== null) {
    if (!/^\d{1,15}$/.test(length.trim())) throw new OriginFramingError("invalid Content-Length");
    return lengthBody(source, Number(length.trim()));
  }
  return closeDelimitedBody(source);
}

function lengthBody(source: ByteSource, length: number): ReadableStream<Uint8Array> {
  let remaining = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (remaining === 0) {
        source.cancel();
        return controller.close();
      }
      const chunk = await source.some(Math.min(remaining, 64 * 1024));
      if (chunk === null) return controller.error(new OriginFramingError("body shorter than its Content-Length"));
      remaining -= chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel: () => source.cancel(),
  });
}

/** RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF … 0 CRLF trailers CRLF. Trailers are dropped. */
function chunkedBody(source: ByteSource, head: Head): ReadableStream<Uint8Array> {
  let inChunk = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (inChunk === 0) {
        const line = await source.line(1024);
        const size = line === null ? null : /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
        if (size === null) return controller.error(new OriginFramingError("invalid chunk size"));
        inChunk = parseInt(size[1] as string, 16);
        if (inChunk === 0) {
          for (let trailer = await source.line(8 * 1024); trailer !== null && trailer !== ""; trailer = await source.line(8 * 1024));
          source.cancel();
          return controller.close();
        }
      }
      const data = await source.some(inChunk);
      if (data === null) return controller.error(new OriginFramingError(`chunked body of ${head.status} response truncated`));
      inChunk -= data.byteLength;
      if (inChunk === 0 && (await source.line(2)) !== "") return controller.error(new OriginFramingError("chunk not followed by CRLF"));
      controller.enqueue(data);
    },
    cancel: () => source.cancel(),
  });
}

function closeDelimitedBody(source: ByteSource): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await source.some(64 * 1024);
      if (chunk === null) return controller.close();
      controller.enqueue(chunk);
    },
    cancel: () => source.cancel(),
  });
}
