/**
 * SlmMonitor: the one object that holds every service level monitoring class's rolling window. Edges
 * report batches of time-to-first-byte counts and stats; the object's own alarm evaluates each class
 * every second while any window holds samples or any class is not ok (ok / warning / serious, one
 * event per transition), so a state follows traffic within a second, not at the next cron tick. The
 * cron also evaluates, and only the cron steps the shaping factor of every rate class that follows
 * a class (once a minute, so one bad second cannot halve the limits sixty times). Edges read the
 * factors through a short cache and scale their rate limits by them.
 */
import { DurableObject } from "cloudflare:workers";
import type { RateClasses, SlmClasses } from "../src/config/rates";
import type { Env } from "../src/env";
import type { Clock } from "../src/lib/clock";
import type { NewEvent } from "../src/events/events";
import { nextFactor } from "../src/rates/shaping";
import type { EpochMillis } from "../src/lib/units";
import type { TtfbStats, TtfbSummary } from "../src/slm/stats";
import { evaluateTransition, nextSlmState, SlmWindow, type SlmState, type SlmWindowJson } from "../src/slm/window";

interface Stored {
  windows: Record<string, SlmWindowJson>;
  states: Record<string, SlmState>;
  factors: Record<string, number>;
  /** The classes last given by an edge or the cron: what the alarm evaluates with. */
  slmClasses?: SlmClasses;
  rateClasses?: RateClasses;
}

export type SlmReport = { cls: string; within: number; total: number; stats?: TtfbStats };

export interface SlmSnapshot {
  /** Per class: state, conformance, and min / max / mean / percentiles of the current window (null without timed samples). */
  states: Record<string, { state: SlmState; percent: number | null; samples: number; timings: TtfbSummary | null }>;
  /** Shaping factor (0..1] per rate class that follows an SLM class. */
  factors: Record<string, number>;
}

const KEY = "slm";
/** How often the alarm evaluates while there is anything to evaluate. */
const EVALUATE_EVERY_MS = 1_000;
const LEVEL: Record<SlmState, NewEvent["level"]> = { ok: "INFO", warning: "WARNING", serious: "SERIOUS" };

export class SlmMonitor extends DurableObject<Env> {
  #stored: Stored = { windows: {}, states: {}, factors: {} };
  readonly #windows = new Map<string, SlmWindow>();
  readonly #now: () => EpochMillis;

  constructor(ctx: DurableObjectState, env: Env, clock: Clock) {
    super(ctx, env);
    this.#now = () => clock.now();
    void ctx.blockConcurrencyWhile(async () => {
      this.#stored = (await ctx.storage.get<Stored>(KEY)) ?? this.#stored;
    });
  }

  /** One edge's counts since its last report: how many responses met the class's target, of how many, and their timings. */
  async record(slmClasses: SlmClasses, counts: SlmReport[], rateClasses?: RateClasses): Promise<void> {
    const now = this.#now();
    this.#stored.slmClasses = slmClasses;
    if (rateClasses !== undefined) this.#stored.rateClasses = rateClasses;
    for (const { cls, within, total, stats } of counts) {
      const params = slmClasses[cls];
      if (params !== undefined) this.#window(cls, params).recordCounts(now, within, total, stats);
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + EVALUATE_EVERY_MS);
  }

  override async alarm(): Promise<void> {
    const slmClasses = this.#stored.slmClasses ?? {};
    await this.#evaluate(slmClasses, this.#stored.rateClasses ?? {}, false);
    if (this.#active(slmClasses)) await this.ctx.storage.setAlarm(this.#now() + EVALUATE_EVERY_MS);
  }

  /** The cron's step: new states (one event per transition) and one step of the shaping factors. */
  async evaluate(slmClasses: SlmClasses, rateClasses: RateClasses): Promise<SlmSnapshot> {
    this.#stored.slmClasses = slmClasses;
    this.#stored.rateClasses = rateClasses;
    const snapshot = await this.#evaluate(slmClasses, rateClasses, true);
    if (this.#active(slmClasses) && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.#now() + EVALUATE_EVERY_MS);
    return snapshot;
  }

  /** Whether the alarm must keep running: a window still holds samples, or a class has not yet returned to ok. */
  #active(slmClasses: SlmClasses): boolean {
    const now = this.#now();
    return Object.entries(slmClasses).some(([name, cls]) => (this.#stored.states[name] ?? "ok") !== "ok" || this.#window(name, cls).conformance(now).samples > 0);
  }

  async #evaluate(slmClasses: SlmClasses, rateClasses: RateClasses, stepShaping: boolean): Promise<SlmSnapshot> {
    const now = this.#now();
    const events: NewEvent[] = [];
    for (const [name, cls] of Object.entries(slmClasses)) {
      const conformance = this.#window(name, cls).conformance(now);
      const prev = this.#stored.states[name] ?? "ok";
      const next = nextSlmState(prev, conformance, cls);
      this.#stored.states[name] = next;
      const transition = evaluateTransition(prev, next);
      if (transition !== null) {
        const percent = conformance.percent === null ? "n/a" : `${conformance.percent.toFixed(1)}%`;
        const why = conformance.samples === 0 ? `no responses in the last ${cls.windowSeconds} s` : `${percent} of ${conformance.samples} responses within ${cls.targetMs} ms`;
        events.push({ time: now, level: LEVEL[next], section: `slm/${name}`, tag: `slm${next}`, text: `SLM class ${name} is now ${next} (was ${prev}): ${why}` });
      }
    }
    for (const [name, rc] of Object.entries(rateClasses)) {
      if (!stepShaping || rc.followSlm === undefined) continue;
      const state = this.#stored.states[rc.followSlm.slmClass] ?? "ok";
      this.#stored.factors[name] = nextFactor(this.#stored.factors[name] ?? 1, state, rc.followSlm);
    }
    for (const [name, window] of this.#windows) this.#stored.windows[name] = window.toJSON();
    await this.ctx.storage.put(KEY, this.#stored);
    if (events.length > 0) await this.env.EVENT_LOG.get(this.env.EVENT_LOG.idFromName("events")).append(events);
    return this.snapshot(slmClasses);
  }

  async snapshot(slmClasses?: SlmClasses): Promise<SlmSnapshot> {
    const now = this.#now();
    const states: SlmSnapshot["states"] = {};
    for (const [name, state] of Object.entries(this.#stored.states)) {
      const params = slmClasses?.[name];
      const window = params === undefined ? null : this.#window(name, params);
      states[name] = { state, ...(window?.conformance(now) ?? { percent: null, samples: 0 }), timings: window?.timings(now) ?? null };
    }
    return { states, factors: { ...this.#stored.factors } };
  }

  #window(name: string, params: SlmClasses[string]): SlmWindow {
    let window = this.#windows.get(name);
    if (window === undefined) {
      window = SlmWindow.fromJSON(params, this.#stored.windows[name]);
      this.#windows.set(name, window);
    }
    return window;
  }
}
