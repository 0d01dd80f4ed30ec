/** The exposition renderer, checked by a real parser of the Prometheus text format (not a regex). */
import fc from "fast-check";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { escapeLabelValue, renderExposition } from "../../../src/observe/prometheus";

describe("renderExposition", () => {
  it("renders families a Prometheus parser reads back, types and values intact", () => {
    const text = renderExposition([
      {
        name: "x_requests_total",
        help: "Requests.",
        type: "counter",
        samples: [
          { labels: { tier: "edge", outcome: "hit" }, value: 7 },
          { labels: { tier: "shard", outcome: "miss" }, value: 2 },
        ],
      },
      { name: "x_ratio", help: "A ratio.", type: "gauge", samples: [{ value: 0.25 }] },
      { name: "x_empty", help: "Nothing yet.", type: "gauge", samples: [] },
    ]);
    const families = parsePrometheusTextFormat(text);
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ["x_requests_total", "COUNTER"],
      ["x_ratio", "GAUGE"],
    ]);
    expect(families[0]!.metrics).toEqual([
      { labels: { tier: "edge", outcome: "hit" }, value: "7" },
      { labels: { tier: "shard", outcome: "miss" }, value: "2" },
    ]);
    expect(families[1]!.metrics).toEqual([{ value: "0.25" }]);
  });

  it("escapes hostile label values: a rule name cannot end its line or forge a sample (output injection)", () => {
    const hostile = ['a"} 1\nshardcache_forged_total 999\n#', "back\\slash", 'quote"', "new\nline", "ünïcødé ✓", "{}=,"];
    const text = renderExposition([{ name: "x_total", help: "Help with \\ and\nnewline.", type: "counter", samples: hostile.map((rule, i) => ({ labels: { rule }, value: i })) }]);
    const families = parsePrometheusTextFormat(text);
    expect(families).toHaveLength(1);
    expect(families[0]!.metrics.map((m) => m.labels?.rule)).toEqual(hostile);
    expect(families[0]!.help).toBe("Help with \\ and\nnewline.");
  });

  it("round-trips any label value through the parser (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.nat(), (value, n) => {
        const families = parsePrometheusTextFormat(renderExposition([{ name: "p_total", help: "h", type: "counter", samples: [{ labels: { v: value }, value: n }] }]));
        expect(families[0]!.metrics[0]).toEqual({ labels: { v: value }, value: String(n) });
      }),
      { numRuns: 60 },
    );
  }, 20_000);

  it("refuses invalid metric and label names (a bug of ours, never silently wrong output)", () => {
    expect(() => renderExposition([{ name: "bad-name", help: "", type: "gauge", samples: [{ value: 1 }] }])).toThrow(/metric name/);
    expect(() => renderExposition([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 }] }])).toThrow(/label name/);
  });

  it("escapes exactly backslash, double quote and line feed", () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
  });
});
