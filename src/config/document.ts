/**
 * The config document: one strict zod schema for settings, rules, pools, monitors, rate classes and
 * SLM classes, and `parseConfig`, which reports every error with its path (`rules[3].match.path`)
 * and returns normalised settings plus the rules compiled once for this version.
 */
import * as z from "zod";
import { err, ok, type Result } from "../lib/result";
import { compileRules, type CompiledRules } from "../rules/match";
import { ruleSchema } from "../rules/schema";
import { MAX_RESPONSE_RULES } from "../rules/response-schema";
import { normaliseSettings, settingsSchema, type Settings } from "./settings";
import { crossCheck, formatPath, type ConfigError, zodIssuesToErrors } from "./errors";
import { monitorsSchema, poolsSchema, unknownMonitorIssues } from "./pools";
import { rateClassesSchema, slmClassesSchema, unknownSlmClassIssues } from "./rates";

export type { ConfigError } from "./errors";
export { rateClassesSchema, slmClassesSchema };

export const configDocumentSchema = z.strictObject({
  /** Lets editors find config.schema.json; ignored otherwise. */
  $schema: z.string().optional(),
  /** Free-form label shown by the admin API; the loader versions documents by content, not by this. */
  version: z.union([z.number(), z.string()]).optional(),
  // `prefault` (not `default`) so the empty object is parsed and every setting gets its own default;
  // `strict` so a misspelt setting is an error instead of being dropped.
  settings: settingsSchema.strict().prefault({}),
  rules: z
    .array(ruleSchema)
    .superRefine((rules, ctx) => {
      const count = rules.filter((rule) => rule.match.response !== undefined).length;
      if (count > MAX_RESPONSE_RULES) ctx.addIssue({ code: "custom", message: `at most ${MAX_RESPONSE_RULES} response rules (match.response): they travel with every shard request (${count} given)` });
    })
    .default([]),
  pools: poolsSchema.default({}),
  monitors: monitorsSchema.default({}),
  rateClasses: rateClassesSchema.default({}),
  slmClasses: slmClassesSchema.default({}),
});

export type ConfigDocumentInput = z.input<typeof configDocumentSchema>;
/** The validated document as written (settings with defaults, shard count not yet expanded). */
export type RawConfigDocument = z.output<typeof configDocumentSchema>;

/**
 * What the request path uses. The validated rules stay alongside their compiled form (for the admin
 * API and for debugging); compiling here means it happens once per config version, because the
 * loader keeps the parsed document until the stored text changes.
 */
export interface ConfigDocument extends Omit<RawConfigDocument, "settings"> {
  settings: Settings;
  compiledRules: CompiledRules;
}

type Issue = { path: (string | number)[]; message: string };

/**
 * A check across two sections of the document (pools → monitors, rate classes → SLM classes), run
 * whenever both sections are valid on their own, so it reports alongside the schema's own errors.
 */
function crossSection<A, B>(input: unknown, a: [string, z.ZodType<A>], b: [string, z.ZodType<B>], check: (a: A, b: B) => Issue[]): ConfigError[] {
  if (typeof input !== "object" || input === null) return [];
  const doc = input as Record<string, unknown>;
  const first = a[1].safeParse(doc[a[0]] ?? {});
  const second = b[1].safeParse(doc[b[0]] ?? {});
  if (!first.success || !second.success) return [];
  return check(first.data, second.data).map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

const monitorReferences = (input: unknown) => crossSection(input, ["pools", poolsSchema], ["monitors", monitorsSchema], unknownMonitorIssues);
const slmReferences = (input: unknown) => crossSection(input, ["rateClasses", rateClassesSchema], ["slmClasses", slmClassesSchema], unknownSlmClassIssues);

/** Validates a parsed JSON value as a config document; every problem is reported, none is fatal to the others. */
export function parseConfig(input: unknown): Result<ConfigDocument, ConfigError[]> {
  const parsed = configDocumentSchema.safeParse(input);
  // Cross-field checks read the raw input, so they still run (and report) when the schema failed elsewhere.
  const errors = [...(parsed.success ? [] : zodIssuesToErrors(parsed.error.issues)), ...crossCheck(input), ...monitorReferences(input), ...slmReferences(input)];
  if (!parsed.success || errors.length > 0) return err(errors);
  const doc = parsed.data;
  return ok({ ...doc, settings: normaliseSettings(doc.settings), compiledRules: compileRules(doc.rules) });
}

/** The document an empty or missing config stands for: default settings, no rules. */
export const defaultConfigDocument: ConfigDocument = (() => {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error("the empty config document must be valid");
  return parsed.value;
})();
