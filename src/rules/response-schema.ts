/**
 * The schema of response-phase rules (`match.response` and the actions that may follow it) and their
 * bounded wire form, the part the config schema (src/rules/schema.ts) and the shard protocol need.
 * Evaluation is src/rules/response-rules.ts; the two are apart so the schema imports no evaluation.
 */
import * as z from "zod";
import { STORE_SET_COOKIE_DESCRIPTION, storeSetCookieSchema } from "../config/set-cookie";
import { valueConditionSchema } from "./value-condition";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerName = z.string().max(256).regex(TOKEN, "not a valid header name");
const seconds = z.number().int("expected whole seconds").min(0).max(31_536_000);
const status = z.number().int().min(100).max(599);
const statusRange = z.strictObject({ min: status, max: status }).refine((r) => r.min <= r.max, "min must not exceed max");
const headerValue = z
  .string()
  .max(8192)
  .regex(/^[^\r\n\0]*$/, "header values cannot contain CR, LF or NUL");
const tag = z.string().regex(/^[^\s,]{1,1024}$/, "tags are 1–1024 characters without spaces or commas");

/** At most this many response rules per document, and so per request: they travel with every shard call. */
export const MAX_RESPONSE_RULES = 32;

export const responseMatchSchema = z
  .strictObject({
    status: z
      .union(
        [
          status,
          statusRange,
          z
            .array(z.union([status, statusRange]))
            .min(1)
            .max(32),
        ],
        { error: 'expected a status, { "min", "max" } or a list of them' },
      )
      .optional()
      .describe('Status codes (e.g. 404, [301, 302], { "min": 500, "max": 599 }).'),
    contentType: z
      .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(16)])
      .optional()
      .describe('Glob(s) on the media type, lower-cased and without parameters ("text/*", "image/*", "application/json").'),
    headers: z.record(headerName, valueConditionSchema).optional().describe("Conditions on the origin's response headers (as sent, before any header edit); names case-insensitive."),
  })
  .describe("Makes this a response rule: its actions apply to the origin's response just before the store decision, when these conditions hold too.");

/** The actions a response rule may have: everything that acts on the response, nothing that routes the request. */
export const responseActionsShape = {
  cache: z.boolean().optional().describe("false: do not store this response (answered, not kept); true: store it as the policy allows (undoes an earlier cache: false)."),
  ttl: seconds.optional().describe("Forced freshness lifetime (as the request rule's ttl: it lifts none of RFC 9111 §3's trust checks)."),
  tags: z.array(tag).max(64).optional(),
  setResponseHeaders: z.record(headerName, headerValue).optional(),
  removeResponseHeaders: z.array(headerName).max(64).optional(),
  staleWhileRevalidate: seconds.optional(),
  staleIfError: seconds.optional(),
  storeAuthorized: z.boolean().optional().describe("DANGEROUS: as the request action (RFC 9111 §3.5)."),
  ignorePrivate: z.boolean().optional().describe("DANGEROUS: as the request action (RFC 9111 §5.2.2.7)."),
  ignoreNoStore: z.boolean().optional().describe("DANGEROUS: as the request action (RFC 9111 §5.2.2.5)."),
  storeSetCookie: storeSetCookieSchema.optional().describe(STORE_SET_COOKIE_DESCRIPTION),
};
export const RESPONSE_ACTIONS = new Set(Object.keys(responseActionsShape));
const responseActionsSchema = z.strictObject(responseActionsShape);
export type ResponseActions = z.output<typeof responseActionsSchema>;
export type ResponseMatch = z.output<typeof responseMatchSchema>;

/** What travels to the shard for one matched response rule. */
export const responseRuleWireSchema = z.strictObject({
  label: z.string().min(1).max(160),
  when: responseMatchSchema,
  actions: responseActionsSchema,
  continue: z.boolean().optional(),
});
export type ResponseRuleWire = z.output<typeof responseRuleWireSchema>;
const wireListSchema = z.array(responseRuleWireSchema).max(MAX_RESPONSE_RULES);

/** The wire form of one validated response rule (names lower-cased, so edits merge by exact name). */
export function responseRuleWire(label: string, when: ResponseMatch, actions: Readonly<ResponseActions>, cont: boolean): ResponseRuleWire {
  const lower = <T>(record: Record<string, T> | undefined) => (record === undefined ? undefined : Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v])));
  const wire: ResponseRuleWire = { label, when: { ...when, ...(when.headers ? { headers: lower(when.headers) } : {}) }, actions: { ...actions } };
  if (actions.setResponseHeaders) wire.actions.setResponseHeaders = lower(actions.setResponseHeaders);
  if (actions.removeResponseHeaders) wire.actions.removeResponseHeaders = actions.removeResponseHeaders.map((n) => n.toLowerCase());
  if (cont) wire.continue = true;
  return wire;
}

/** The shard's check of what an edge sent: a valid, bounded list, or null (then no response rule applies). */
export function checkResponseRules(value: unknown): ResponseRuleWire[] | null {
  if (value === undefined) return [];
  const parsed = wireListSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
