/**
 * checkShardResult's inline answers (src/serve/shard-protocol.ts): a result whose answer is data
 * rather than a Response is checked field by field and turned into a Response; anything a Response
 * could not be, or that breaks the bound, makes the whole result invalid (the edge then treats the
 * shard as failed, never serves a half-checked answer).
 */
import { describe, expect, it } from "vitest";
import { checkShardResult, INLINE_BODY_MAX_BYTES } from "../../../src/serve/shard-protocol";

const fields = { v: 1, trace: "shard-0->HIT", member: { hit: true, ttlSeconds: 5 }, outcome: "hit", origin: null } as const;
const bytes = new TextEncoder().encode("hello");

describe("checkShardResult: inline answers", () => {
  it("becomes a Response with the status, fields in order and body, and hands the body bytes on", async () => {
    const checked = checkShardResult({
      ...fields,
      inline: {
        status: 200,
        headers: [
          ["content-type", "text/plain"],
          ["x-a", "1"],
        ],
        body: bytes,
      },
    });
    expect(checked).not.toBeNull();
    expect(checked!.response.status).toBe(200);
    expect([...checked!.response.headers]).toEqual([
      ["content-type", "text/plain"],
      ["x-a", "1"],
    ]);
    expect(await checked!.response.text()).toBe("hello");
    expect(checked!.body).toBe(bytes);
    expect(checkShardResult({ ...fields, inline: { status: 304, headers: [], body: null } })?.response.status).toBe(304);
  });

  it("a streamed answer has no body bytes", () => {
    expect(checkShardResult({ ...fields, response: new Response("x") })?.body).toBeNull();
  });

  const invalid: [string, unknown][] = [
    ["no answer at all", { ...fields }],
    ["a response that is not a Response", { ...fields, response: { status: 200 } }],
    ["status out of range", { ...fields, inline: { status: 99, headers: [], body: null } }],
    ["status over 599", { ...fields, inline: { status: 600, headers: [], body: null } }],
    ["status as text", { ...fields, inline: { status: "200", headers: [], body: null } }],
    ["fields not a list", { ...fields, inline: { status: 200, headers: { a: "b" }, body: null } }],
    ["a field that is not a pair", { ...fields, inline: { status: 200, headers: [["a"]], body: null } }],
    ["a field value that is not text", { ...fields, inline: { status: 200, headers: [["a", 1]], body: null } }],
    ["a field name a Response refuses", { ...fields, inline: { status: 200, headers: [["bad name", "x"]], body: null } }],
    ["a body on a null-body status", { ...fields, inline: { status: 204, headers: [], body: bytes } }],
    ["a body that is not bytes", { ...fields, inline: { status: 200, headers: [], body: "hello" } }],
    ["a body over the bound", { ...fields, inline: { status: 200, headers: [], body: new Uint8Array(INLINE_BODY_MAX_BYTES + 1) } }],
    ["inline not an object", { ...fields, inline: "200 OK" }],
  ];
  it.each(invalid)("refuses %s", (_, value) => {
    expect(checkShardResult(value)).toBeNull();
  });
});
