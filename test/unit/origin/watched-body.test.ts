/** watchBody: a body that errors or ends before its Content-Length is "cut"; a cancelled one reports nothing. */
import { describe, expect, it } from "vitest";
import { watchBody, type BodyEnd } from "../../../src/origin/watched-body";

const bytes = (text: string) => new TextEncoder().encode(text);

function streamOf(chunks: string[], failAfter = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(bytes(chunks[i++]!));
      else if (failAfter) controller.error(new Error("connection reset"));
      else controller.close();
    },
  });
}

async function consume(response: Response): Promise<string> {
  return response.text().catch(() => "errored");
}

describe("watchBody", () => {
  it("reports complete for a whole body and passes the bytes unchanged", async () => {
    const ends: BodyEnd[] = [];
    const response = watchBody(new Response(streamOf(["ab", "cd"]), { headers: { "content-length": "4" } }), (e) => ends.push(e));
    expect(await response.text()).toBe("abcd");
    expect(ends).toEqual([{ kind: "complete" }]);
  });

  it("reports a body whose stream errors as cut, with the bytes received", async () => {
    const ends: BodyEnd[] = [];
    const response = watchBody(new Response(streamOf(["abc"], true)), (e) => ends.push(e));
    expect(await consume(response)).toBe("errored");
    expect(ends).toEqual([{ kind: "cut", reason: "body cut short after 3 bytes: connection reset" }]);
  });

  it("reports a body shorter than its Content-Length as cut, and errors it for the consumer", async () => {
    const ends: BodyEnd[] = [];
    const response = watchBody(new Response(streamOf(["abc"]), { headers: { "content-length": "10" } }), (e) => ends.push(e));
    expect(await consume(response)).toBe("errored");
    expect(ends).toEqual([{ kind: "cut", reason: "body cut short: 3 of 10 bytes" }]);
  });

  it("ignores Content-Length under a content coding and a garbage Content-Length", async () => {
    const cases: Record<string, string>[] = [{ "content-length": "10", "content-encoding": "gzip" }, { "content-length": "1e3" }];
    for (const headers of cases) {
      const ends: BodyEnd[] = [];
      expect(await watchBody(new Response(streamOf(["abc"]), { headers }), (e) => ends.push(e)).text()).toBe("abc");
      expect(ends).toEqual([{ kind: "complete" }]);
    }
  });

  it("reports nothing when the consumer cancels (the client went away, not the node)", async () => {
    const ends: BodyEnd[] = [];
    const response = watchBody(new Response(streamOf(["a", "b", "c"], true)), (e) => ends.push(e));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel("client left");
    expect(ends).toEqual([]);
  });

  it("leaves a response without a body as it is", () => {
    const response = new Response(null, { status: 204 });
    expect(watchBody(response, () => {})).toBe(response);
  });
});
