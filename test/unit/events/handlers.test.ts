/** Event handler filters (levels, sections, tags) and the legacy eventsWebhook as an unfiltered handler. */
import { describe, expect, it } from "vitest";
import { configuredHandlers, eventHandlersSchema, handlerWants } from "../../../src/events/handlers";

const url = "https://hook.example/x";
const ev = (level: "INFO" | "WARNING" | "SERIOUS" | "FATAL", section: string, tag: string) => ({ level, section, tag });

describe("handlerWants", () => {
  it.each([
    ["no filter: everything", {}, ev("INFO", "config", "confchange"), true],
    ["level in the list", { levels: ["SERIOUS" as const] }, ev("SERIOUS", "pools/web", "pooldied"), true],
    ["level not in the list", { levels: ["SERIOUS" as const] }, ev("WARNING", "pools/web", "nodefail"), false],
    ["section prefix selects sub-sections", { sections: ["pools"] }, ev("INFO", "pools/web", "poolok"), true],
    ["section itself", { sections: ["pools/web"] }, ev("INFO", "pools/web", "poolok"), true],
    ["a section that only shares a prefix string is not a sub-section", { sections: ["pools"] }, ev("INFO", "poolside", "x"), false],
    ["tag in the list", { tags: ["confchange"] }, ev("INFO", "config", "confchange"), true],
    ["every filter must pass", { levels: ["INFO" as const], tags: ["purge"] }, ev("INFO", "config", "confchange"), false],
  ])("%s", (_name, filter, event, expected) => {
    expect(handlerWants({ name: "h", url, ...filter }, event)).toBe(expected);
  });
});

describe("configuredHandlers", () => {
  it("keeps eventsWebhook working as an unfiltered handler named default", () => {
    expect(configuredHandlers({ eventsWebhook: url })).toEqual([{ name: "default", url }]);
    expect(configuredHandlers({ eventHandlers: [{ name: "pager", url, levels: ["FATAL"] }], eventsWebhook: url }).map((h) => h.name)).toEqual(["pager", "default"]);
    expect(configuredHandlers({})).toEqual([]);
  });

  it("refuses duplicate names and empty filters", () => {
    const parsed = eventHandlersSchema.safeParse([
      { name: "a", url },
      { name: "a", url, tags: [] },
    ]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["1.tags", "1.name"]));
  });
});
