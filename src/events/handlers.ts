/**
 * Event handlers: several webhooks, each receiving only the events its filter selects, as a traffic
 * manager's event handlers do (e.g. SERIOUS pool events to the pager, every config change to chat).
 * The schema lives here with the matching; `settings.eventHandlers` uses it, and the legacy single
 * `settings.eventsWebhook` stays a handler named "default" that receives everything.
 */
import * as z from "zod";
import { type ClusterEvent, eventLevels } from "./events";

export const eventHandlerSchema = z.strictObject({
  /** Names the handler in delivery state and logs; unique among handlers. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'"),
  url: z.url({ protocol: /^https?$/, error: "must be an absolute http:// or https:// URL" }),
  /** Levels to deliver (default: all). */
  levels: z.array(z.enum(eventLevels)).min(1).optional(),
  /** Sections to deliver: "pools" selects "pools" and everything under it ("pools/web"); default all. */
  sections: z.array(z.string().min(1)).min(1).optional(),
  /** Tags to deliver ("nodefail", "confchange", …); default all. */
  tags: z.array(z.string().min(1)).min(1).optional(),
});

export const eventHandlersSchema = z
  .array(eventHandlerSchema)
  .max(10)
  .superRefine((handlers, ctx) => {
    const seen = new Set<string>();
    handlers.forEach((h, i) => {
      if (seen.has(h.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate event handler name "${h.name}"` });
      seen.add(h.name);
    });
  });

export type EventHandler = z.output<typeof eventHandlerSchema>;

const sectionMatches = (section: string, wanted: string): boolean => section === wanted || section.startsWith(`${wanted.replace(/\/+$/, "")}/`);

/** True when every filter the handler has (levels, sections, tags) lets the event through. */
export function handlerWants(handler: EventHandler, event: Pick<ClusterEvent, "level" | "section" | "tag">): boolean {
  if (handler.levels !== undefined && !handler.levels.includes(event.level)) return false;
  if (handler.sections !== undefined && !handler.sections.some((s) => sectionMatches(event.section, s))) return false;
  if (handler.tags !== undefined && !handler.tags.includes(event.tag)) return false;
  return true;
}

/** The handlers a config asks for: `eventHandlers`, plus the legacy `eventsWebhook` as an unfiltered "default" handler. */
export function configuredHandlers(settings: { eventHandlers?: EventHandler[] | undefined; eventsWebhook?: string | undefined }): EventHandler[] {
  const handlers = [...(settings.eventHandlers ?? [])];
  if (settings.eventsWebhook !== undefined && !handlers.some((h) => h.name === "default")) handlers.push({ name: "default", url: settings.eventsWebhook });
  return handlers;
}
