/**
 * The SLM class states rules match on (`match.slm`), as this isolate last saw them. Rule evaluation
 * is synchronous and on every request, so it reads a plain value here; the SlmMonitor's snapshot is
 * fetched in the background at most once per `memoMs`, and only while some rule names an SLM state.
 * Until the first snapshot arrives (and for a class the snapshot does not name) the state is `ok`,
 * the state of a class with no evidence against it; a failed fetch keeps the last states.
 */
import { SLM_STATES, type SlmStateName } from "../rules/schema";

export class SlmStates {
  #states = new Map<string, SlmStateName>();
  #fetchedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly load: () => Promise<{ states: Record<string, { state: unknown }> }>,
    private readonly memoMs: number,
  ) {}

  stateOf(className: string): SlmStateName {
    return this.#states.get(className) ?? "ok";
  }

  /** Starts a background fetch when the last one is `memoMs` old; the promise (for waitUntil) or null. */
  refresh(now: number): Promise<void> | null {
    if (now - this.#fetchedAt < this.memoMs) return null;
    this.#fetchedAt = now;
    return this.load().then(
      (snapshot) => {
        const states = new Map<string, SlmStateName>();
        // Only states this version knows: anything else (another deploy's object) counts as ok.
        for (const [name, entry] of Object.entries(snapshot.states)) if ((SLM_STATES as readonly unknown[]).includes(entry?.state)) states.set(name, entry.state as SlmStateName);
        this.#states = states;
      },
      () => {},
    );
  }
}
