/**
 * GET /metrics: the cluster's counters and gauges as Prometheus families (src/observe/prometheus.ts
 * renders them). Counters come from storage that survives restarts (shard SQLite, the
 * MetricsCollector), so they only go up; a shard that cannot answer shows as shardcache_shard_up 0.
 */
import type { EdgeTotalRow } from "../../durable/metrics-collector";
import type { ConfigDocument } from "../config/document";
import type { HealthSnapshot } from "../origin/pool-fetch";
import type { ClusterFigures } from "../observe/cluster";
import { EDGE_OUTCOMES, SHARD_OUTCOMES } from "../observe/outcomes";
import type { MetricFamily, Sample } from "../observe/prometheus";
import type { RateClassView, SlmView } from "./observe";
import { answered, type ShardStatsEntry } from "./stats";

export interface MetricsInput {
  cluster: ClusterFigures;
  edgeTotals: readonly EdgeTotalRow[];
  shards: readonly ShardStatsEntry[];
  health: HealthSnapshot | null;
  slm: SlmView;
  rates: Record<string, RateClassView>;
  config: ConfigDocument;
  configVersion: string;
  configSource: string;
}

const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: "counter", samples });
const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: "gauge", samples });

/** The rate class a rule label's last matching rule names (a refusal is counted under it). */
function rateClassOfRule(label: string, config: ConfigDocument): string | undefined {
  const names = label.split("+");
  for (let i = names.length - 1; i >= 0; i--) {
    const rule = config.rules.find((r) => r.name === names[i]);
    if (rule?.actions.rateClass !== undefined) return rule.actions.rateClass.name;
  }
  return undefined;
}

export function metricFamilies(input: MetricsInput): MetricFamily[] {
  const { cluster } = input;
  const shards = answered(input.shards);
  const refusedByClass = new Map<string, number>();
  for (const row of input.edgeTotals) {
    if (row.outcome !== "refused") continue;
    const cls = rateClassOfRule(row.rule, input.config) ?? "(unknown)";
    refusedByClass.set(cls, (refusedByClass.get(cls) ?? 0) + row.requests);
  }
  const healthNodes = Object.entries(input.health?.nodes ?? {});
  return [
    counter("shardcache_requests_total", "Requests by tier and outcome: the edge counts every client request once; a shard counts each request an edge sent it.", [
      ...EDGE_OUTCOMES.map((outcome) => ({ labels: { tier: "edge", outcome }, value: cluster.edge[outcome] })),
      ...SHARD_OUTCOMES.map((outcome) => ({ labels: { tier: "shard", outcome }, value: cluster.shard[outcome] })),
    ]),
    counter(
      "shardcache_rule_requests_total",
      "Edge requests by matched rule and outcome.",
      input.edgeTotals.map((r) => ({ labels: { rule: r.rule, outcome: r.outcome }, value: r.requests })),
    ),
    counter(
      "shardcache_bytes_served_total",
      "Body bytes the edge served (declared lengths), by matched rule.",
      sumBy(
        input.edgeTotals,
        (r) => r.rule,
        (r) => r.bytes,
      ).map(([rule, value]) => ({ labels: { rule }, value })),
    ),
    gauge("shardcache_hit_ratio", "Cluster hit ratio: hits at either tier / cacheable requests, since counting began.", cluster.hitRatio === null ? [] : [{ value: cluster.hitRatio }]),
    counter(
      "shardcache_shard_requests_total",
      "Requests each shard answered, by outcome.",
      shards.flatMap((s) => SHARD_OUTCOMES.map((outcome) => ({ labels: { shard: s.shard, outcome }, value: s.requests[outcome] }))),
    ),
    counter(
      "shardcache_origin_fetches_total",
      "Origin fetches made by each shard (stores, revalidations, pass-throughs).",
      shards.map((s) => ({ labels: { shard: s.shard }, value: s.originFetches })),
    ),
    counter(
      "shardcache_coalesced_total",
      "Requests that waited on another request's origin fetch instead of making their own.",
      shards.map((s) => ({ labels: { shard: s.shard }, value: s.coalesced })),
    ),
    counter(
      "shardcache_stores_total",
      "Bodies each shard wrote to storage.",
      shards.map((s) => ({ labels: { shard: s.shard }, value: s.stores })),
    ),
    counter(
      "shardcache_revalidations_total",
      "Stale copies confirmed by a 304.",
      shards.map((s) => ({ labels: { shard: s.shard }, value: s.revalidations })),
    ),
    gauge(
      "shardcache_objects",
      "Stored objects (variants) per shard.",
      shards.map((s) => ({ labels: { shard: s.shard }, value: s.objects })),
    ),
    gauge(
      "shardcache_stored_bytes",
      "Stored body bytes per shard.",
      shards.map((s) => ({ labels: { shard: s.shard }, value: s.storedBytes })),
    ),
    gauge(
      "shardcache_shard_up",
      "1 when the shard answered this scrape, 0 when it failed.",
      input.shards.map((s) => ({ labels: { shard: s.shard }, value: "error" in s ? 0 : 1 })),
    ),
    gauge(
      "shardcache_origin_node_healthy",
      "1 when an origin pool node is healthy (passive and active checks), else 0.",
      healthNodes.map(([key, node]) => ({ labels: nodeLabels(key), value: node.healthy ? 1 : 0 })),
    ),
    gauge(
      "shardcache_slm_conformance_ratio",
      "Share of responses within the SLM class's time-to-first-byte target over its window.",
      Object.entries(input.slm.states).flatMap(([cls, s]) => (s.percent === null ? [] : [{ labels: { class: cls }, value: s.percent / 100 }])),
    ),
    gauge(
      "shardcache_slm_state",
      "1 for the current conformance state of each SLM class.",
      Object.entries(input.slm.states).map(([cls, s]) => ({ labels: { class: cls, state: s.state }, value: 1 })),
    ),
    gauge(
      "shardcache_rate_admitted_last_minute",
      "Requests each rate class admitted in the last minute.",
      Object.entries(input.rates).map(([cls, v]) => ({ labels: { class: cls }, value: v.perMinute })),
    ),
    gauge(
      "shardcache_rate_backlog",
      "Requests queued by each rate class.",
      Object.entries(input.rates).map(([cls, v]) => ({ labels: { class: cls }, value: v.backlog })),
    ),
    gauge(
      "shardcache_rate_factor",
      "Each rate class's shaping factor (1 = unshaped).",
      Object.entries(input.rates).map(([cls, v]) => ({ labels: { class: cls }, value: v.factor })),
    ),
    counter(
      "shardcache_rate_refused_total",
      "Requests a rate class refused (429) at the edge.",
      [...refusedByClass].map(([cls, value]) => ({ labels: { class: cls }, value })),
    ),
    gauge("shardcache_config_info", "The config document in use.", [{ labels: { version: input.configVersion, source: input.configSource }, value: 1 }]),
  ];
}

/** Health snapshot keys are `pool|url` (src/origin/pool-fetch.ts nodeKey). */
function nodeLabels(key: string): { pool: string; node: string } {
  const at = key.indexOf("|");
  return at < 0 ? { pool: "", node: key } : { pool: key.slice(0, at), node: key.slice(at + 1) };
}

function sumBy<T>(rows: readonly T[], key: (row: T) => string, value: (row: T) => number): [string, number][] {
  const sums = new Map<string, number>();
  for (const row of rows) sums.set(key(row), (sums.get(key(row)) ?? 0) + value(row));
  return [...sums];
}
