/** The access log entry of one edge answer (the line itself: src/observe/access-log.ts). */
import type { EpochMillis } from "../lib/units";
import type { AccessLogEntry } from "../observe/access-log";
import type { EdgeAnswer } from "./request-scope";

export function accessLogEntry(request: { readonly method: string; readonly url: string }, answer: EdgeAnswer, receivedAt: EpochMillis, answeredAt: EpochMillis): AccessLogEntry {
  const url = new URL(request.url);
  return {
    time: receivedAt,
    method: request.method,
    host: url.host,
    path: url.pathname + url.search,
    status: answer.status,
    rule: answer.rule,
    edge: answer.outcome,
    shard: answer.upstream.shard,
    shardName: answer.upstream.shardName,
    origin: answer.upstream.origin,
    ttfbMs: Math.max(0, answeredAt - receivedAt),
    bytes: answer.bytes,
  };
}
