/** Builders shared by the rule tests: validated rules from literals and rule requests from a URL. */
import { compileRules, type CompiledRules, type RuleRequest } from "../../../src/rules/match";
import { ruleSchema, type RuleInput } from "../../../src/rules/schema";

export function rules(...inputs: RuleInput[]): CompiledRules {
  return compileRules(inputs.map((input) => ruleSchema.parse(input)));
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  clientIp?: string | null;
  country?: string | null;
  slm?: Record<string, "ok" | "warning" | "serious">;
}

export function req(url: string, options: RequestOptions = {}): RuleRequest {
  return {
    method: options.method ?? "GET",
    url: new URL(url),
    headers: new Headers(options.headers ?? {}),
    clientIp: options.clientIp ?? null,
    country: options.country ?? null,
    ...(options.slm ? { slm: (name: string) => options.slm![name] ?? "ok" } : {}),
  };
}

/** The labels of the rules a request matched. */
export function matched(compiled: CompiledRules, url: string, options?: RequestOptions): readonly string[] {
  return compiled.evaluate(req(url, options)).matched;
}
