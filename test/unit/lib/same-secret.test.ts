import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sameSecret } from "../../../src/lib/same-secret";

describe("sameSecret: a sent value against a secret, without an early exit", () => {
  const secret = "s3cret-token-0123456789abcdef";
  it.each([
    [secret, true],
    ["", false],
    ["S3cret-token-0123456789abcdef", false], // differs in the first character only
    ["s3cret-token-0123456789abcdeF", false], // differs in the last character only
    [secret.slice(0, -1), false], // a prefix
    [`${secret}x`, false], // one character longer
    [`${secret}\u0000`, false], // a trailing NUL is not nothing
    ["s3cret-tokén-0123456789abcdef", false], // same length, one character outside ASCII
  ])("%j is the secret: %s", (sent, same) => {
    expect(sameSecret(sent, secret)).toBe(same);
  });

  it("an empty secret equals only the empty string", () => {
    expect(sameSecret("", "")).toBe(true);
    expect(sameSecret("x", "")).toBe(false);
  });

  it("agrees with === for any two strings", () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => sameSecret(a, b) === (a === b)));
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), fc.integer({ min: 1, max: 0xffff }), (a, at, flip) => {
        const i = at % a.length;
        const changed = a.slice(0, i) + String.fromCharCode(a.charCodeAt(i) ^ flip) + a.slice(i + 1);
        return sameSecret(changed, a) === false;
      }),
    );
  });
});
