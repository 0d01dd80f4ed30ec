/**
 * Hostile input at the operator → config boundary, through the real admin API: no pattern that could
 * match super-linearly stalls the isolate, URL fields take http(s) only, and rule actions never lift
 * the shared-cache checks unless they name the dangerous exception.
 */
import { describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { putConfig } from "../helpers/config";
import { fetchVia } from "../helpers/http";
import { uniquePath } from "../helpers/origin";

describe("resource exhaustion: regexes in config", () => {
  it("a rule with ^/(a+)+$ cannot stall the isolate: a 10 kB hostile path is answered at once", async () => {
    const prefix = uniquePath("redos");
    await putConfig({ rules: [{ match: { path: { regex: "^/(a+)+$" } }, actions: { pass: true } }] });
    const started = Date.now();
    const response = await fetchVia(`/${"a".repeat(10_000)}!${prefix}`);
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ["rules[0].match.path.regex", { rules: [{ match: { path: { regex: "(a)\\1" } }, actions: {} }] }],
    ["rules[0].match.path.regex", { rules: [{ match: { path: { regex: "^/(?!public)" } }, actions: {} }] }],
    ["monitors.m.bodyRegex", { monitors: { m: { bodyRegex: "(?<=ok)" } } }],
  ])("a pattern that needs backtracking is refused at %s with the reason", async (path, doc) => {
    const { status, body } = await admin("POST", "/config/validate", doc);
    expect(status).toBe(400);
    expect(body.errors).toContainEqual({ path, message: expect.stringMatching(/not a linear-time \(RE2\) regular expression/) });
  });
});

describe("URL fields accept only http: and https:", () => {
  it.each([
    ["settings.origin", { settings: { origin: "file:///etc/passwd" } }],
    ["settings.origin", { settings: { origin: "javascript:alert(1)" } }],
    ["settings.eventsWebhook", { settings: { eventsWebhook: "ftp://hooks.example/x" } }],
    ["pools.p.nodes[0].url", { pools: { p: { nodes: [{ url: "data:text/plain,hi" }] } } }],
  ])("%s is refused for a non-http(s) scheme", async (path, doc) => {
    const { status, body } = await admin("POST", "/config/validate", doc);
    expect(status).toBe(400);
    expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it("http and https are accepted", async () => {
    const { status } = await admin("POST", "/config/validate", { settings: { origin: "https://origin.example", eventsWebhook: "http://127.0.0.1:9/hook" } });
    expect(status).toBe(200);
  });
});

describe("dangerous rule actions are explicit", () => {
  it("the shipped config validates and names no dangerous action", async () => {
    const shipped = (await import("../../config/default.json")).default as { rules: { actions: Record<string, unknown> }[] };
    for (const rule of shipped.rules) for (const name of ["storeAuthorized", "ignorePrivate", "ignoreNoStore"]) expect(rule.actions[name]).toBeUndefined();
    const { status } = await admin("POST", "/config/validate", shipped);
    expect(status).toBe(200);
  });
});
