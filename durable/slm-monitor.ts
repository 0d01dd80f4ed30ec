/**
 * SlmMonitor: the one object that holds every service level monitoring class's rolling window. Edges
 * report batches of time-to-first-byte counts; the cron evaluates each class (ok / warning / serious,
 * one event per transition) and moves the shaping factor of every rate class that follows one.
 * Edges read the factors through a short cache and scale their rate limits by them.
 */
import { DurableObject } from "cloudflare:workers";
import type { RateClasses, SlmClasses } from "../src/config/rates";
import type { Env } from "../src/env";
import type { NewEvent } from "../src/events/events";
import { nextFactor } from "../src/rates/shaping";
import { evaluateTransition, nextSlmState, SlmWindow, type SlmState, type SlmWindowJson } from "../src/slm/window";

interface Stored {
  windows: Record<string, SlmWindowJson>;
  states: Record<string, SlmState>;
  factors: Record<string, number>;
}

export interface SlmSnapshot {
  states: Record<string, { state: SlmState; percent: number | null; samples: number }>;
  /** Shaping factor (0..1] per rate class that follows an SLM class. */
  factors: Record<string, number>;
}

const KEY = "slm";
const LEVEL: Record<SlmState, NewEvent["level"]> = { ok: "INFO", warning: "WARNING", serious: "SERIOUS" };

export class SlmMonitor extends DurableObject<Env> {
  #stored: Stored = { windows: {}, states: {}, factors: {} };
  readonly #windows = new Map<string, SlmWindow>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#stored = (await ctx.storage.get<Stored>(KEY)) ?? this.#stored;
    });
  }

  /** One edge's counts since its last report: how many responses met the class's target, of how many. */
  async record(slmClasses: SlmClasses, counts: { cls: string; within: number; total: number }[]): Promise<void> {
    const now = Date.now();
    for (const { cls, within, total } of counts) {
      const params = slmClasses[cls];
      if (params !== undefined) this.#window(cls, params).recordCounts(now, within, total);
    }
  }

  /** The cron's step: new states (one event per transition) and new shaping factors. */
  async evaluate(slmClasses: SlmClasses, rateClasses: RateClasses): Promise<SlmSnapshot> {
    const now = Date.now();
    const events: NewEvent[] = [];
    for (const [name, cls] of Object.entries(slmClasses)) {
      const conformance = this.#window(name, cls).conformance(now);
      const prev = this.#stored.states[name] ?? "ok";
      const next = nextSlmState(prev, conformance, cls);
      this.#stored.states[name] = next;
      const transition = evaluateTransition(prev, next);
      if (transition !== null) {
        const percent = conformance.percent === null ? "n/a" : `${conformance.percent.toFixed(1)}%`;
        events.push({ time: now, level: LEVEL[next], section: `slm/${name}`, tag: `slm${next}`, text: `SLM class ${name} is now ${next} (was ${prev}): ${percent} of ${conformance.samples} responses within ${cls.targetMs} ms` });
      }
    }
    for (const [name, rc] of Object.entries(rateClasses)) {
      if (rc.followSlm === undefined) continue;
      const state = this.#stored.states[rc.followSlm.slmClass] ?? "ok";
      this.#stored.factors[name] = nextFactor(this.#stored.factors[name] ?? 1, state, rc.followSlm);
    }
    for (const [name, window] of this.#windows) this.#stored.windows[name] = window.toJSON();
    await this.ctx.storage.put(KEY, this.#stored);
    if (events.length > 0) await this.env.EVENT_LOG.get(this.env.EVENT_LOG.idFromName("events")).append(events);
    return this.snapshot(slmClasses);
  }

  async snapshot(slmClasses?: SlmClasses): Promise<SlmSnapshot> {
    const now = Date.now();
    const states: SlmSnapshot["states"] = {};
    for (const [name, state] of Object.entries(this.#stored.states)) {
      const conformance = slmClasses?.[name] ? this.#window(name, slmClasses[name]).conformance(now) : { percent: null, samples: 0 };
      states[name] = { state, ...conformance };
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
