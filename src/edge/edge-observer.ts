/**
 * What happens to every edge answer once it is decided (handler.ts `finish` hands each one over): the
 * access log line when `settings.accessLog` is on, the isolate's edge counters, and a Workers Analytics
 * Engine data point when that dataset is bound. Built once per config version (the access-log switch
 * is part of it); the counter is the isolate's.
 */
import type { Clock } from "../lib/clock";
import { accessLogLine } from "../observe/access-log";
import { accessLogEntry } from "./access-log";
import type { EdgeCounter } from "./edge-counter";
import type { EdgeAnswer, RequestScope } from "./request-scope";

export interface EdgeObserverParts {
  /** This isolate's counters; null when counting is off (EDGE_COUNTING=off, the bench's reference run only). */
  counter: EdgeCounter | null;
  /** The Analytics Engine dataset, when bound. */
  analytics: AnalyticsEngineDataset | undefined;
  clock: Clock;
}

export class EdgeObserver {
  constructor(
    private readonly parts: EdgeObserverParts,
    private readonly accessLog: boolean,
  ) {}

  observe(answer: EdgeAnswer, scope: Pick<RequestScope, "incoming" | "receivedAt" | "waitUntil">): void {
    if (this.accessLog) console.log(accessLogLine(accessLogEntry(scope.incoming, answer, scope.receivedAt, this.parts.clock.now())));
    const { counter, analytics } = this.parts;
    if (counter === null) return;
    counter.count(answer.rule, answer.outcome, answer.bytes, scope.receivedAt, scope.waitUntil);
    // Workers Analytics Engine, when bound: one data point per request, queryable with SQL.
    analytics?.writeDataPoint({ indexes: [answer.rule], blobs: [answer.outcome, answer.rule, answer.upstream.shard ?? "", answer.upstream.shardName ?? ""], doubles: [1, answer.bytes] });
  }
}
