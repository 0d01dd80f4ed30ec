/**
 * The access log (`settings.accessLog`): one JSON object per request, one line, written with
 * console.log so Workers Logs and `wrangler tail` pick it up. JSON.stringify escapes quotes and
 * control characters, so a hostile path or host cannot end a line or forge a field.
 */
import type { EpochMillis } from "../lib/units";
import type { EdgeOutcome, ShardOutcome } from "./outcomes";

export interface AccessLogEntry {
  time: EpochMillis;
  method: string;
  host: string;
  path: string;
  status: number;
  rule: string;
  /** What the edge did, and, when a shard answered, what the shard did. */
  edge: EdgeOutcome;
  shard: ShardOutcome | null;
  shardName: string | null;
  /** The origin host or pool node that answered, when one did. */
  origin: string | null;
  /** From the request's arrival at the edge to its response headers. */
  ttfbMs: number;
  /** Declared body bytes sent (0 for HEAD and bodiless answers). */
  bytes: number;
}

export function accessLogLine(entry: AccessLogEntry): string {
  const { time, ...rest } = entry;
  return JSON.stringify({ time: new Date(time).toISOString(), ...rest });
}
