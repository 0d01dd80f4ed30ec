import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { rateClassSchema, rateClassesSchema, slmClassSchema, slmClassesSchema, unknownSlmClassIssues } from "../../../src/config/rates";

const issues = (schema: z.ZodType, input: unknown) => {
  const r = schema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("rateClassSchema", () => {
  it("fills the defaults", () => {
    expect(rateClassSchema.parse({ perSecond: 10 })).toEqual({ perSecond: 10, mode: "reject", maxWaitMs: 1000, spread: 8 });
    expect(rateClassSchema.parse({ perMinute: 60, followSlm: { slmClass: "web" } }).followSlm).toEqual({ slmClass: "web", minFactor: 0.1, decreaseFactor: 0.5, recoverStep: 0.1 });
  });

  it("needs at least one limit, with a clear message", () => {
    expect(issues(rateClassSchema, {})).toEqual([": a rate class needs a limit: set perSecond, perMinute or both"]);
  });

  it("accepts every context form", () => {
    for (const context of ["ip", "path", { header: "X-Api-Key" }, { cookie: "session" }]) expect(rateClassSchema.parse({ perSecond: 1, context }).context).toEqual(context);
  });

  it("refuses bad values with their paths", () => {
    expect(issues(rateClassSchema, { perSecond: 0 })[0]).toMatch(/^perSecond: /);
    expect(issues(rateClassSchema, { perSecond: 1, context: "country" })[0]).toMatch(/^context: /);
    expect(issues(rateClassSchema, { perSecond: 1, context: { header: "bad header" } })[0]).toMatch(/^context/);
    expect(issues(rateClassSchema, { perSecond: 1, mode: "drop" })[0]).toMatch(/^mode: /);
    expect(issues(rateClassSchema, { perSecond: 1, spread: 0 })[0]).toMatch(/^spread: /);
    expect(issues(rateClassSchema, { perSecond: 1, followSlm: { slmClass: "x", decreaseFactor: 1 } })[0]).toMatch(/^followSlm\.decreaseFactor: /);
    expect(issues(rateClassSchema, { perSecond: 1, followSlm: { slmClass: "x", minFactor: 0 } })[0]).toMatch(/^followSlm\.minFactor: /);
  });

  it("is strict: unknown keys are errors, not silently ignored", () => {
    expect(issues(rateClassSchema, { perSecond: 1, perHour: 5 })).toHaveLength(1);
    expect(issues(rateClassSchema, { perSecond: 1, followSlm: { slmClass: "x", step: 1 } })).toHaveLength(1);
  });
});

describe("slmClassSchema", () => {
  it("fills the defaults", () => {
    expect(slmClassSchema.parse({ targetMs: 200 })).toEqual({ targetMs: 200, warningPercent: 95, seriousPercent: 80, windowSeconds: 10, minSamples: 10 });
  });

  it("needs a target", () => {
    expect(issues(slmClassSchema, {})[0]).toMatch(/^targetMs: /);
  });

  it("refuses a serious level above the warning level", () => {
    expect(issues(slmClassSchema, { targetMs: 200, warningPercent: 90, seriousPercent: 95 })).toEqual(["seriousPercent: seriousPercent must not exceed warningPercent (serious is the worse state)"]);
    expect(issues(slmClassSchema, { targetMs: 200, warningPercent: 101 })[0]).toMatch(/^warningPercent: /);
  });
});

describe("sections", () => {
  it("qualify errors by class name", () => {
    expect(issues(rateClassesSchema, { api: { perSecond: -1 } })[0]).toMatch(/^api\.perSecond: /);
    expect(issues(slmClassesSchema, { web: { targetMs: "fast" } })[0]).toMatch(/^web\.targetMs: /);
  });

  it("find rate classes following an SLM class that does not exist", () => {
    const rateClasses = rateClassesSchema.parse({ api: { perSecond: 10, followSlm: { slmClass: "web" } }, img: { perSecond: 5, followSlm: { slmClass: "nope" } } });
    const slmClasses = slmClassesSchema.parse({ web: { targetMs: 200 } });
    expect(unknownSlmClassIssues(rateClasses, slmClasses)).toEqual([{ path: ["rateClasses", "img", "followSlm", "slmClass"], message: 'no SLM class named "nope"' }]);
  });
});
