/** How an origin that could not answer is reported to a client: 504 for a timeout, 503 when the pool is down, else 502. */
import type { OriginFailure } from "../origin/fetch-origin";

export function describeFailure(failure: OriginFailure | { kind: "status"; status: number }): { status: number; text: string } {
  switch (failure.kind) {
    case "timeout":
      return { status: 504, text: `origin did not answer within ${failure.afterMs} ms` };
    case "network":
      return { status: 502, text: `origin unreachable: ${failure.message}` };
    case "pool-down":
      return { status: 503, text: `no origin server in pool "${failure.pool}" is available` };
    case "status":
      return { status: 502, text: `origin answered ${failure.status}` };
    case "invalid":
      return { status: 502, text: `origin sent a response that cannot be relayed: ${failure.reason}` };
  }
}

/** The plain-text error response for `failure`, never stored by anyone (Retry-After when the pool is down). */
export function failureResponse(failure: OriginFailure | { kind: "status"; status: number }): Response {
  const { status, text } = describeFailure(failure);
  const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
  if (failure.kind === "pool-down") headers["retry-after"] = String(failure.retryAfterSeconds);
  return new Response(`shardcache: ${text}\n`, { status, headers });
}
