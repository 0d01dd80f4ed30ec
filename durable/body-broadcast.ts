/**
 * One origin body, many readers: the leader's client, every coalesced waiter and the store all read
 * the same stream while it arrives, so nobody waits for the whole body and the origin is read once.
 *
 * While the body fits the storage bound, every chunk is retained (readers may join late and start from
 * byte 0, and the store gets the whole body at the end). Once it grows past the bound, retention stops:
 * no one else may join, chunks every reader has passed are dropped, and the source is read no faster
 * than the slowest reader, so a huge pass-through body never piles up in memory.
 * Web-standard streams only: no Durable Object APIs, so it is unit-tested in Node.
 */

export type BroadcastResult = { stored: true; chunks: Uint8Array[]; bytes: number } | { stored: false; reason: "too-large" | "error" | "abandoned"; bytes: number };

interface Cursor {
  index: number;
}

/** Bytes a non-retaining broadcast may hold ahead of its slowest reader. */
const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;

export class BodyBroadcast {
  readonly #chunks: Uint8Array[] = [];
  /** Absolute index of #chunks[0]; grows as dropped chunks are trimmed away. */
  #base = 0;
  #bufferedBytes = 0;
  #receivedBytes = 0;
  #retaining = true;
  #done = false;
  #failed = false;
  #error: unknown;
  readonly #readers = new Set<Cursor>();
  #wakeReaders: (() => void)[] = [];
  #wakePump: (() => void) | null = null;
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  readonly result: Promise<BroadcastResult>;

  constructor(
    source: ReadableStream<Uint8Array>,
    private readonly maxRetainedBytes: number,
    private readonly highWaterBytes = DEFAULT_HIGH_WATER_BYTES,
  ) {
    this.#source = source.getReader();
    this.result = this.#pump();
  }

  /** A new reader can still start from byte 0. */
  get canJoin(): boolean {
    return this.#retaining && !this.#failed;
  }

  get receivedBytes(): number {
    return this.#receivedBytes;
  }

  /** A stream of the whole body from its first byte. Throws if the broadcast no longer retains it (check `canJoin`). */
  reader(): ReadableStream<Uint8Array> {
    if (!this.canJoin) throw new Error("BodyBroadcast: body is no longer retained; a late reader cannot join");
    const cursor: Cursor = { index: 0 };
    this.#readers.add(cursor);
    return new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#deliver(cursor, controller),
        cancel: () => this.#leave(cursor),
      },
      { highWaterMark: 0 },
    );
  }

  async #deliver(cursor: Cursor, controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const chunk = this.#chunks[cursor.index - this.#base];
      if (chunk !== undefined) {
        cursor.index += 1;
        controller.enqueue(chunk);
        this.#trimConsumed();
        return;
      }
      if (this.#failed) {
        this.#leave(cursor);
        return controller.error(this.#error);
      }
      if (this.#done) {
        this.#leave(cursor);
        return controller.close();
      }
      await new Promise<void>((resolve) => this.#wakeReaders.push(resolve));
    }
  }

  #leave(cursor: Cursor): void {
    if (!this.#readers.delete(cursor)) return;
    this.#trimConsumed();
    // Keep reading for the store while retaining; otherwise nobody wants the rest.
    if (this.#readers.size === 0 && !this.#retaining && !this.#done) void this.#source.cancel().catch(() => {});
  }

  async #pump(): Promise<BroadcastResult> {
    try {
      for (;;) {
        if (!this.#retaining) await this.#waitForSlowestReader();
        if (!this.#retaining && this.#readers.size === 0) return { stored: false, reason: "abandoned", bytes: this.#receivedBytes };
        const { done, value } = await this.#source.read();
        if (done) break;
        this.#append(value);
      }
      this.#done = true;
      this.#wakeAllReaders();
      if (!this.#retaining) return { stored: false, reason: "too-large", bytes: this.#receivedBytes };
      return { stored: true, chunks: this.#chunks.slice(), bytes: this.#receivedBytes };
    } catch (error) {
      this.#failed = true;
      this.#error = error;
      this.#wakeAllReaders();
      return { stored: false, reason: "error", bytes: this.#receivedBytes };
    }
  }

  #append(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#bufferedBytes += chunk.byteLength;
    this.#receivedBytes += chunk.byteLength;
    if (this.#retaining && this.#receivedBytes > this.maxRetainedBytes) {
      this.#retaining = false;
      this.#trimConsumed();
    }
    this.#wakeAllReaders();
  }

  /** When not retaining, drop every chunk that all readers have already passed. */
  #trimConsumed(): void {
    if (this.#retaining) return;
    let lowest = this.#base + this.#chunks.length;
    for (const cursor of this.#readers) lowest = Math.min(lowest, cursor.index);
    while (this.#base < lowest) {
      const dropped = this.#chunks.shift();
      if (dropped !== undefined) this.#bufferedBytes -= dropped.byteLength;
      this.#base += 1;
    }
    if (this.#bufferedBytes < this.highWaterBytes) this.#wakePump?.();
  }

  #waitForSlowestReader(): Promise<void> {
    if (this.#bufferedBytes < this.highWaterBytes || this.#readers.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wakePump = () => {
        this.#wakePump = null;
        resolve();
      };
    });
  }

  #wakeAllReaders(): void {
    const waiting = this.#wakeReaders;
    this.#wakeReaders = [];
    for (const wake of waiting) wake();
  }
}
