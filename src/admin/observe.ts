/**
 * Read-only views for operators: the cluster event log, and every rate class's current rate,
 * backlog and shaping factor (summed over the limiter objects the class is spread over), with the
 * state of every SLM class.
 */
import type { ConfigDocument } from "../config/document";
import { eventLevels, type ClusterEvent, type EventLevel, type ListOptions } from "../events/events";
import { limiterObjectNames } from "../rates/context";
import { effectiveLimits } from "../rates/shaping";

export interface ContextStatus {
  context: string;
  perSecond: number;
  perMinute: number;
  backlog: number;
}

export interface SlmView {
  states: Record<string, { state: string; percent: number | null; samples: number }>;
  factors: Record<string, number>;
}

export interface RateClassView {
  limits: { perSecond?: number | undefined; perMinute?: number | undefined };
  factor: number;
  effectiveLimits: { perSecond?: number | undefined; perMinute?: number | undefined };
  mode: "queue" | "reject";
  /** Requests admitted in the last second and minute, summed over every context. */
  perSecond: number;
  perMinute: number;
  /** Queued requests not yet admitted (queue mode). */
  backlog: number;
  contexts: number;
  busiest: ContextStatus[];
}

/** Parses `?sinceId=&limit=&minLevel=` into list options; unknown or malformed values are ignored. */
export function eventListOptions(url: URL): ListOptions {
  const options: ListOptions = {};
  const sinceId = Number(url.searchParams.get("sinceId"));
  const limit = Number(url.searchParams.get("limit"));
  const minLevel = url.searchParams.get("minLevel")?.toUpperCase();
  if (url.searchParams.has("sinceId") && Number.isInteger(sinceId) && sinceId >= 0) options.sinceId = sinceId;
  if (url.searchParams.has("limit") && Number.isInteger(limit) && limit > 0) options.limit = Math.min(limit, 1000);
  if (minLevel !== undefined && (eventLevels as readonly string[]).includes(minLevel)) options.minLevel = minLevel as EventLevel;
  return options;
}

export async function rateClassesView(config: ConfigDocument, status: (objectName: string) => Promise<ContextStatus[]>, slm: SlmView): Promise<Record<string, RateClassView>> {
  const views: Record<string, RateClassView> = {};
  for (const [name, cls] of Object.entries(config.rateClasses)) {
    const contexts = (await Promise.all(limiterObjectNames(name, cls.spread).map((objectName) => status(objectName).catch(() => [])))).flat();
    const factor = slm.factors[name] ?? 1;
    const limits = { perSecond: cls.perSecond, perMinute: cls.perMinute };
    views[name] = {
      limits,
      factor,
      effectiveLimits: effectiveLimits(limits, factor),
      mode: cls.mode,
      perSecond: contexts.reduce((sum, c) => sum + c.perSecond, 0),
      perMinute: contexts.reduce((sum, c) => sum + c.perMinute, 0),
      backlog: contexts.reduce((sum, c) => sum + c.backlog, 0),
      contexts: contexts.length,
      busiest: [...contexts].sort((a, b) => b.perMinute - a.perMinute).slice(0, 10),
    };
  }
  return views;
}

export type { ClusterEvent };
