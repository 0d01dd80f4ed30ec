import { describe, expect, it } from "vitest";
import { BodyBroadcast } from "../../../durable/body-broadcast";

const bytes = (...values: number[]) => new Uint8Array(values);

/** A source stream the test feeds by hand, to control when chunks arrive. */
function manualSource() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => void (pulls += 1),
    },
    { highWaterMark: 0 },
  );
  return { stream, push: (c: Uint8Array) => controller.enqueue(c), close: () => controller.close(), fail: (e: Error) => controller.error(e), pulls: () => pulls };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) out.push(...chunk);
  return out;
}

describe("BodyBroadcast", () => {
  it("gives every reader the whole body, including one that joins late", async () => {
    const src = manualSource();
    const broadcast = new BodyBroadcast(src.stream, 1000);
    const early = readAll(broadcast.reader());
    src.push(bytes(1, 2));
    await new Promise((r) => setTimeout(r, 5));
    const late = readAll(broadcast.reader());
    src.push(bytes(3));
    src.close();
    expect(await early).toEqual([1, 2, 3]);
    expect(await late).toEqual([1, 2, 3]);
    const result = await broadcast.result;
    expect(result).toMatchObject({ stored: true, bytes: 3 });
  });

  it("keeps reading for the store after every reader has gone", async () => {
    const src = manualSource();
    const broadcast = new BodyBroadcast(src.stream, 1000);
    const reader = broadcast.reader().getReader();
    src.push(bytes(9));
    await reader.read();
    await reader.cancel();
    src.push(bytes(8));
    src.close();
    const result = await broadcast.result;
    expect(result.stored).toBe(true);
    if (result.stored) expect(result.chunks.flatMap((c) => [...c])).toEqual([9, 8]);
  });

  it("stops retaining past the bound, refuses late joiners and still streams to current readers", async () => {
    const src = manualSource();
    const broadcast = new BodyBroadcast(src.stream, 4, 1);
    const all = readAll(broadcast.reader());
    src.push(bytes(1, 2, 3));
    src.push(bytes(4, 5, 6));
    await new Promise((r) => setTimeout(r, 5));
    expect(broadcast.canJoin).toBe(false);
    expect(() => broadcast.reader()).toThrow(/no longer retained/);
    src.push(bytes(7));
    src.close();
    expect(await all).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await broadcast.result).toEqual({ stored: false, reason: "too-large", bytes: 7 });
  });

  it("reads a non-retained body no faster than its slowest reader", async () => {
    let produced = 0;
    const source = new ReadableStream<Uint8Array>({ pull: (c) => void ((produced += 1), c.enqueue(new Uint8Array(100))) }, { highWaterMark: 0 });
    const broadcast = new BodyBroadcast(source, 50, 300);
    const reader = broadcast.reader().getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 20));
    // Nothing is consumed after the first chunk, so the pump must stall near the high-water mark.
    expect(produced).toBeLessThan(10);
    await reader.cancel();
    expect((await broadcast.result).stored).toBe(false);
  });

  it("passes a source error to readers and reports it", async () => {
    const src = manualSource();
    const broadcast = new BodyBroadcast(src.stream, 1000);
    const all = readAll(broadcast.reader());
    src.push(bytes(1));
    src.fail(new Error("origin reset"));
    await expect(all).rejects.toThrow("origin reset");
    expect(await broadcast.result).toMatchObject({ stored: false, reason: "error" });
  });
});
