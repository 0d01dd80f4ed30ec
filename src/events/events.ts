/**
 * Cluster events (node down/up, pool down, config changes, purges…): their shape, a bounded log
 * that a Durable Object can persist as JSON, the webhook payload, and the event texts for health.
 */
import * as z from "zod";
import { err, ok, type Result } from "../lib/result";
import type { EpochMillis, Millis } from "../lib/units";

export const eventLevels = ["INFO", "WARNING", "SERIOUS", "FATAL"] as const;
export type EventLevel = (typeof eventLevels)[number];

/** Known tags; others are allowed so a new feature can raise events before this list learns of it. */
export type EventTag = "nodefail" | "nodeok" | "pooldied" | "poolok" | "confchange" | "purge" | "slmwarn" | (string & {});

export type ClusterEvent = {
  id: number;
  time: EpochMillis;
  level: EventLevel;
  /** What the event is about, as a path: "pools/web", "slm/checkout", "config". */
  section: string;
  tag: EventTag;
  text: string;
};

export type NewEvent = Omit<ClusterEvent, "id">;

const levelRank = (level: EventLevel): number => eventLevels.indexOf(level);

const eventSchema = z.strictObject({
  id: z.number().int().min(1),
  time: z.number(),
  level: z.enum(eventLevels),
  section: z.string(),
  tag: z.string(),
  text: z.string(),
});

const ringJsonSchema = z.strictObject({
  capacity: z.number().int().min(1),
  lastId: z.number().int().min(0),
  events: z.array(eventSchema),
});

export type EventRingJson = z.output<typeof ringJsonSchema>;

export type ListOptions = { sinceId?: number; limit?: number; minLevel?: EventLevel };

/**
 * The newest `capacity` events, oldest dropped first. Ids increase by one per event and are never
 * reused, even across `toJSON`/`fromJSON`, so a reader can ask for "everything after id N" and see
 * from a gap in ids that events were dropped before it read them.
 */
export class EventRing {
  readonly capacity: number;
  #slots: (ClusterEvent | undefined)[];
  #start = 0; // slot of the oldest event
  #size = 0;
  #lastId = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event ring capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#slots = new Array<ClusterEvent | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Id of the newest event ever appended (0 when none), including dropped ones. */
  get lastId(): number {
    return this.#lastId;
  }

  append(event: NewEvent): ClusterEvent {
    const stored: ClusterEvent = { ...event, id: ++this.#lastId };
    this.#slots[(this.#start + this.#size) % this.capacity] = stored;
    if (this.#size < this.capacity) this.#size++;
    else this.#start = (this.#start + 1) % this.capacity; // overwrote the oldest
    return stored;
  }

  /** Every held event, oldest first. */
  all(): ClusterEvent[] {
    const out: ClusterEvent[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#slots[(this.#start + i) % this.capacity]!);
    return out;
  }

  /**
   * Events oldest first, filtered by id and minimum level. With `sinceId` the limit keeps the
   * oldest matches, so paging on with the last id returned loses nothing; without it the limit
   * keeps the newest, which is what a dashboard wants.
   */
  list(opts: ListOptions = {}): ClusterEvent[] {
    const sinceId = opts.sinceId ?? 0;
    const minRank = levelRank(opts.minLevel ?? "INFO");
    const matches = this.all().filter((e) => e.id > sinceId && levelRank(e.level) >= minRank);
    const limit = opts.limit === undefined ? matches.length : Math.max(0, Math.floor(opts.limit));
    if (limit >= matches.length) return matches;
    return opts.sinceId === undefined ? matches.slice(matches.length - limit) : matches.slice(0, limit);
  }

  toJSON(): EventRingJson {
    return { capacity: this.capacity, lastId: this.#lastId, events: this.all() };
  }

  /**
   * Rebuilds a ring from `toJSON()` output (as stored by a Durable Object). `capacity` overrides
   * the stored one when the configured size changed; the newest events that fit are kept. Stored
   * data that does not have the right shape is an error value, so the caller can start afresh.
   */
  static fromJSON(json: unknown, capacity?: number): Result<EventRing, string> {
    const parsed = ringJsonSchema.safeParse(json);
    if (!parsed.success) return err(`stored event log is malformed: ${z.prettifyError(parsed.error)}`);
    const { events, lastId } = parsed.data;
    for (let i = 0; i < events.length; i++) {
      if (events[i]!.id > lastId || (i > 0 && events[i]!.id <= events[i - 1]!.id)) return err("stored event log has ids out of order");
    }
    const ring = new EventRing(capacity ?? parsed.data.capacity);
    for (const event of events.slice(-ring.capacity)) {
      ring.#lastId = event.id - 1;
      ring.append(event);
    }
    ring.#lastId = lastId;
    return ok(ring);
  }
}

export type WebhookPayload = {
  source: "shardcache";
  events: (ClusterEvent & { isoTime: string })[];
};

/** The JSON body POSTed to the events webhook: the events as stored plus a readable timestamp. */
export function webhookPayload(events: readonly ClusterEvent[]): WebhookPayload {
  return { source: "shardcache", events: events.map((e) => ({ ...e, isoTime: isoTime(e.time) })) };
}

function isoTime(time: EpochMillis): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? "invalid" : date.toISOString();
}

/**
 * Delay before webhook delivery attempt `attempt` + 1 (attempt 1 is the first failure): doubling
 * from `baseMs` up to `capMs`. No jitter: a single Durable Object delivers the events, so there is
 * no herd of senders to spread out, and a fixed schedule is easy to test and reason about.
 */
export function nextRetryDelayMs(attempt: number, opts: { baseMs?: Millis; capMs?: Millis } = {}): Millis {
  const baseMs = opts.baseMs ?? 1000;
  const capMs = opts.capMs ?? 5 * 60_000;
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  return Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 52));
}

/** A node's health changed: "failed"/"recovered" come from passive health, "down"/"up" from monitors. */
export function healthChangeEvent(pool: string, node: string, change: "failed" | "recovered" | "down" | "up", reason: string, now: EpochMillis): NewEvent {
  const failed = change === "failed" || change === "down";
  return {
    time: now,
    level: failed ? "WARNING" : "INFO",
    section: `pools/${pool}`,
    tag: failed ? "nodefail" : "nodeok",
    text: failed ? `Node ${node} has failed: ${reason}` : `Node ${node} is working again: ${reason}`,
  };
}

/** A pool lost its last healthy node (clients now get stale content or 503), or got one back. */
export function poolStateEvent(pool: string, allDown: boolean, now: EpochMillis): NewEvent {
  return allDown
    ? { time: now, level: "SERIOUS", section: `pools/${pool}`, tag: "pooldied", text: `Pool ${pool} has no back-end nodes responding` }
    : { time: now, level: "INFO", section: `pools/${pool}`, tag: "poolok", text: `Pool ${pool} now has working nodes` };
}
