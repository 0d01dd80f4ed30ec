import { timingSafeEqual as nodeTimingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bearerToken, checkAdminAuth, MIN_ADMIN_TOKEN_LENGTH, tokensEqual, weakTokenProblem, type TimingSafeEqual } from "../../../src/admin/auth";
import { DEV_ADMIN_TOKEN } from "../../../src/lib/dev-token";

/** Node's own constant-time compare stands in for workerd's crypto.subtle.timingSafeEqual (same contract: equal lengths). */
const compared: number[] = [];
const timingSafeEqual: TimingSafeEqual = (a, b) => {
  const x = new Uint8Array(a instanceof ArrayBuffer ? a : a.buffer);
  const y = new Uint8Array(b instanceof ArrayBuffer ? b : b.buffer);
  compared.push(x.byteLength, y.byteLength);
  return nodeTimingSafeEqual(x, y);
};

const STRONG = "s".repeat(MIN_ADMIN_TOKEN_LENGTH);
const settings = (configuredToken: string | undefined, localDev = false) => ({ configuredToken, localDev, timingSafeEqual });

describe("tokensEqual", () => {
  it("is true only for identical strings", async () => {
    for (const [a, b, equal] of [
      ["secret-token", "secret-token", true],
      ["secret-tokeN", "secret-token", false],
      ["secret", "secret-token", false],
      ["secret-token-", "secret-token", false],
      ["", "secret-token", false],
      ["ab\u0000", "ab", false],
      ["é", "é", true],
      ["é", "e", false],
    ] as const) {
      expect(await tokensEqual(a, b, timingSafeEqual), `${a} vs ${b}`).toBe(equal);
    }
  });

  it("hands the platform compare two digests of one length, whatever the lengths of the inputs", async () => {
    compared.length = 0;
    await tokensEqual("x", "a much longer secret than x", timingSafeEqual);
    expect(compared).toEqual([32, 32]);
  });
});

describe("bearerToken", () => {
  it("reads `Bearer <token>` case-insensitively and nothing else", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken("Bearer a b")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });
});

describe("weakTokenProblem", () => {
  it("outside local dev refuses a token shorter than 32 characters and the published development token", () => {
    expect(weakTokenProblem("x", false)).toMatch(/shorter than 32 characters/);
    expect(weakTokenProblem("s".repeat(MIN_ADMIN_TOKEN_LENGTH - 1), false)).toMatch(/shorter than 32/);
    expect(weakTokenProblem(DEV_ADMIN_TOKEN, false)).toMatch(/published development token/);
    expect(weakTokenProblem(STRONG, false)).toBeNull();
  });
  it("in local dev accepts them", () => {
    expect(weakTokenProblem("x", true)).toBeNull();
    expect(weakTokenProblem(DEV_ADMIN_TOKEN, true)).toBeNull();
  });
});

describe("checkAdminAuth", () => {
  it("is disabled (503) without a configured token, whatever the request sends", async () => {
    expect(await checkAdminAuth("Bearer x", settings(undefined))).toMatchObject({ ok: false, status: 503, message: expect.stringMatching(/admin API disabled/) });
    expect(await checkAdminAuth("Bearer ", settings(""))).toMatchObject({ ok: false, status: 503 });
  });
  it("refuses (503, with the reason) to open with a weak token outside local dev, even when the request sends it", async () => {
    expect(await checkAdminAuth("Bearer t0k", settings("t0k"))).toMatchObject({ ok: false, status: 503, message: expect.stringMatching(/shorter than 32/) });
    expect(await checkAdminAuth(`Bearer ${DEV_ADMIN_TOKEN}`, settings(DEV_ADMIN_TOKEN))).toMatchObject({ ok: false, status: 503, message: expect.stringMatching(/development token/) });
  });
  it("answers 401 for a missing or wrong token, ok for the right one", async () => {
    expect(await checkAdminAuth(null, settings(STRONG))).toMatchObject({ ok: false, status: 401 });
    expect(await checkAdminAuth("Bearer nope", settings(STRONG))).toMatchObject({ ok: false, status: 401 });
    expect(await checkAdminAuth(`Bearer ${STRONG}`, settings(STRONG))).toEqual({ ok: true });
    expect(await checkAdminAuth("Bearer t0k", settings("t0k", true))).toEqual({ ok: true });
  });
});
