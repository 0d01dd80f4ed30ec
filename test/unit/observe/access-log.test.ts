import { describe, expect, it } from "vitest";
import { accessLogLine, type AccessLogEntry } from "../../../src/observe/access-log";

const entry: AccessLogEntry = {
  time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  method: "GET",
  host: "example.com",
  path: "/a?b=1",
  status: 200,
  rule: "static",
  edge: "miss",
  shard: "hit",
  shardName: "shard-3",
  origin: null,
  ttfbMs: 12,
  bytes: 2048,
};

describe("accessLogLine", () => {
  it("is one JSON object with every field, the time in ISO 8601", () => {
    const line = accessLogLine(entry);
    expect(JSON.parse(line)).toEqual({ ...entry, time: "2026-01-02T03:04:05.006Z" });
    expect(Object.keys(JSON.parse(line))).toEqual(["time", "method", "host", "path", "status", "rule", "edge", "shard", "shardName", "origin", "ttfbMs", "bytes"]);
  });

  it("keeps a hostile path on its one line, quotes and control characters escaped (output injection)", () => {
    const path = '/x"\n{"forged":true}\r\u2028\u0000';
    const line = accessLogLine({ ...entry, path });
    // The sink is line-based: no raw newline, carriage return or NUL may reach it.
    for (const raw of ["\n", "\r", "\u0000"]) expect(line.includes(raw)).toBe(false);
    expect(JSON.parse(line).path).toBe(path);
  });
});
