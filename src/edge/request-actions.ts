/**
 * A matched rule's request actions at the edge (`redirect`, `deny`, `rewrite`, request header set /
 * remove), applied right after rule evaluation and before anything else reads the request (rate
 * class, cache key, shards, origin). The decision is `planRequest` (src/rules/request-actions.ts);
 * this turns it into the edge's answer or the changed request.
 */
import type { RuleRequest, RuleResult } from "../rules/match";
import { planRequest } from "../rules/request-actions";
import type { Outcome } from "../serve/outcome";
import type { Incoming } from "./incoming";

export type RequestActionsApplied = { answer: Response; outcome: Outcome } | { request: Request; ruleRequest: RuleRequest };

/** null when the rule has no request actions (the common case: nothing is copied). */
export function applyRequestActions(incoming: Incoming, ruleRequest: RuleRequest, rule: RuleResult): RequestActionsApplied | null {
  const { request } = incoming;
  const plan = planRequest(rule.actions, ruleRequest);
  if (plan === null) return null;
  if (plan.kind === "respond") {
    const action = plan.detail === "rule-redirect" ? "redirect" : plan.detail === "rule-deny" ? "deny" : "refused";
    // A HEAD gets the same status and headers without the body (RFC 9110 §9.3.2).
    const body = request.method === "HEAD" ? null : plan.body;
    return { answer: new Response(body, { status: plan.status, headers: plan.headers }), outcome: { kind: "rule-answered", action, rules: rule.matched, status: plan.status } };
  }
  const headers = new Headers(request.headers);
  for (const name of plan.remove ?? []) headers.delete(name);
  for (const [name, value] of Object.entries(plan.set ?? {})) headers.set(name, value);
  const url = plan.url ?? request.url;
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const changed = new Request(url, { method: request.method, headers, body: hasBody ? request.body : null, redirect: "manual" });
  // Spelled out: the edge's RuleRequest reads its parts through getters, which a spread would not copy.
  // The changed fields behind the same gate: the client's internal fields stay hidden from the rules' readers.
  return { request: changed, ruleRequest: { method: ruleRequest.method, url: new URL(url), headers: incoming.headers.over(headers), clientIp: ruleRequest.clientIp, country: ruleRequest.country, slm: ruleRequest.slm } };
}
