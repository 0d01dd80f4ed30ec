/**
 * Raising a cluster event from an edge isolate (a config problem, a malformed purge log, a shard the
 * isolate starts or stops skipping): one append to the EventLog object, stamped with the clock.
 * Best effort: the promise never rejects, so a failing event log never fails the caller.
 */
import type { NewEvent } from "../events/events";
import type { Clock } from "../lib/clock";

export type RaiseEvent = (event: Omit<NewEvent, "time">) => Promise<void>;

/** The one call the edge makes on the EventLog object. */
export interface EventLogStub {
  append(events: NewEvent[]): Promise<unknown>;
}

export function eventRaiser(log: () => EventLogStub, clock: Clock): RaiseEvent {
  return (event) =>
    log()
      .append([{ ...event, time: clock.now() }])
      .then(
        () => {},
        () => {},
      );
}
