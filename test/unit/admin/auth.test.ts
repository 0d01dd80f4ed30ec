import { describe, expect, it } from "vitest";
import { bearerToken, checkAdminAuth, constantTimeEqual } from "../../../src/admin/auth";

describe("constantTimeEqual", () => {
  it("is true only for identical strings", () => {
    expect(constantTimeEqual("secret-token", "secret-token")).toBe(true);
    expect(constantTimeEqual("secret-tokeN", "secret-token")).toBe(false);
    expect(constantTimeEqual("Secret-token", "secret-token")).toBe(false);
    expect(constantTimeEqual("secret", "secret-token")).toBe(false);
    expect(constantTimeEqual("secret-token-", "secret-token")).toBe(false);
    expect(constantTimeEqual("", "secret-token")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    // A prefix padded with NULs must not pass for the secret.
    expect(constantTimeEqual("ab\u0000", "ab")).toBe(false);
    expect(constantTimeEqual("ab", "ab\u0000")).toBe(false);
    expect(constantTimeEqual("é", "é")).toBe(true);
    expect(constantTimeEqual("é", "e")).toBe(false);
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

describe("checkAdminAuth", () => {
  it("is disabled (503) without a configured token, whatever the request sends", () => {
    expect(checkAdminAuth("Bearer x", undefined)).toMatchObject({ ok: false, status: 503, message: expect.stringMatching(/admin API disabled/) });
    expect(checkAdminAuth("Bearer ", "")).toMatchObject({ ok: false, status: 503 });
  });
  it("answers 401 for a missing or wrong token, ok for the right one", () => {
    expect(checkAdminAuth(null, "t0k")).toMatchObject({ ok: false, status: 401 });
    expect(checkAdminAuth("Bearer nope", "t0k")).toMatchObject({ ok: false, status: 401 });
    expect(checkAdminAuth("Bearer t0k", "t0k")).toEqual({ ok: true });
  });
});
