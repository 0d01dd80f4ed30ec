/**
 * Rate classes and service level monitoring (SLM) classes: the `rateClasses` and `slmClasses`
 * sections of the config document, as zod schemas (strict, every tunable defaulted) with their
 * types inferred from them.
 */
import * as z from "zod";

// RFC 9110 token: header and cookie names outside it can never match a real request.
const token = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP token (letters, digits and !#$%&'*+.^_`|~-)");

export const rateContextSchema = z.union([z.enum(["ip", "path"]), z.strictObject({ header: token }), z.strictObject({ cookie: token })]);

export const followSlmSchema = z.strictObject({
  /** Name of the SLM class whose state scales this class's limits. */
  slmClass: z.string().min(1),
  /** The limits never shrink below this share of the configured ones, so traffic keeps flowing and the SLM can see recovery. */
  minFactor: z.number().gt(0).max(1).default(0.1),
  /** Multiplier applied at each evaluation while the SLM class is serious (below 1, or it would never shrink). */
  decreaseFactor: z.number().gt(0).lt(1).default(0.5),
  /** Added to the factor at each evaluation while the SLM class is ok, up to 1. */
  recoverStep: z.number().gt(0).max(1).default(0.1),
});

export const rateClassSchema = z
  .strictObject({
    /** Requests admitted in any one-second window, across the whole cluster. */
    perSecond: z.number().positive().max(1_000_000).optional(),
    /** Requests admitted in any sixty-second window, across the whole cluster. */
    perMinute: z.number().positive().max(60_000_000).optional(),
    /** What separates independent limits (per client IP, per path, per header or cookie value); absent = one limit for the class. */
    context: rateContextSchema.optional(),
    /** `queue` delays requests (spaced at the class rate) up to maxWaitMs; `reject` answers 429 with Retry-After. */
    mode: z.enum(["queue", "reject"]).default("reject"),
    /** Longest delay a queued request may be given; beyond it the request is rejected (queue mode only). */
    maxWaitMs: z.number().int().min(0).max(60_000).default(1000),
    /** Durable Objects the contexts of this class are hashed over, so one busy class is not one hot object. */
    spread: z.number().int().min(1).max(256).default(8),
    /** Dynamic rate shaping: shrink the limits while the named SLM class is serious. */
    followSlm: followSlmSchema.optional(),
  })
  .refine((c) => c.perSecond !== undefined || c.perMinute !== undefined, {
    message: "a rate class needs a limit: set perSecond, perMinute or both",
  });

export const slmClassSchema = z
  .strictObject({
    /** A request conforms when its time to first byte is at most this. */
    targetMs: z.number().positive().max(600_000),
    /** Conformance (% of requests within targetMs) below this is `warning`. */
    warningPercent: z.number().min(0).max(100).default(95),
    /** Conformance below this is `serious`. */
    seriousPercent: z.number().min(0).max(100).default(80),
    /** Length of the rolling window the conformance is measured over. */
    windowSeconds: z.number().int().min(1).max(3600).default(10),
    /** Fewer samples than this in the window give no verdict (the state holds), so a quiet minute cannot flip it. */
    minSamples: z.number().int().min(1).max(1_000_000).default(10),
  })
  .refine((s) => s.seriousPercent <= s.warningPercent, {
    path: ["seriousPercent"],
    message: "seriousPercent must not exceed warningPercent (serious is the worse state)",
  });

export const rateClassesSchema = z.record(z.string(), rateClassSchema);
export const slmClassesSchema = z.record(z.string(), slmClassSchema);

export type RateContext = z.output<typeof rateContextSchema>;
export type FollowSlm = z.output<typeof followSlmSchema>;
export type RateClassInput = z.input<typeof rateClassSchema>;
export type RateClass = z.output<typeof rateClassSchema>;
export type SlmClassInput = z.input<typeof slmClassSchema>;
export type SlmClass = z.output<typeof slmClassSchema>;
export type RateClasses = z.output<typeof rateClassesSchema>;
export type SlmClasses = z.output<typeof slmClassesSchema>;

/**
 * Rate classes following an SLM class that the `slmClasses` section does not define. This crosses
 * two sections, so the config document's own superRefine calls it; paths are relative to the root.
 */
export function unknownSlmClassIssues(rateClasses: RateClasses, slmClasses: SlmClasses): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [name, cls] of Object.entries(rateClasses)) {
    const wanted = cls.followSlm?.slmClass;
    if (wanted !== undefined && !Object.hasOwn(slmClasses, wanted)) {
      issues.push({ path: ["rateClasses", name, "followSlm", "slmClass"], message: `no SLM class named "${wanted}"` });
    }
  }
  return issues;
}
