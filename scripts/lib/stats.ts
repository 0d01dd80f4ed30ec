/** Small numeric and formatting helpers shared by the benchmark scripts. */
import { cpus, totalmem } from "node:os";
import { execFileSync, spawnSync } from "node:child_process";

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** p-th percentile (0–100) of an already sorted array, nearest rank. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/**
 * The middle half of `values`: the 25th and 75th percentiles (nearest rank). Beside a median of
 * ratios it says how far the runs behind it strayed from each other.
 */
export function interquartile(values: readonly number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  return [percentileSorted(sorted, 25), percentileSorted(sorted, 75)];
}

/** Deterministic PRNG, so every run draws the same request sequence. */
export { seededRandom as prng } from "../../src/lib/seeded-random";

/** A Zipf(s) sampler over ranks 0 … n-1 (rank 0 the most popular), by inverse CDF. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** A GitHub-flavoured markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en") : "–"),
  ms: (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : "–"),
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–"),
  pct: (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : "–"),
};

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  workerd: string | null;
  wrk: string | null;
  nginx: string | null;
  varnish: string | null;
}

function versionOf(cmd: string, args: string[]): string | null {
  // nginx -v writes to stderr; wrk -v exits non-zero after printing its version.
  const result = spawnSync(cmd, args, { encoding: "utf8", timeout: 5000 });
  if (result.error !== undefined) return null;
  const line = `${result.stdout ?? ""}\n${result.stderr ?? ""}`
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  return line === undefined ? null : line.replace(/ Copyright.*$/, "");
}

export function machineInfo(workerdVersion: string | null): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    workerd: workerdVersion,
    wrk: versionOf("wrk", ["-v"]),
    nginx: versionOf("nginx", ["-v"]),
    varnish: versionOf("varnishd", ["-V"]),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, workerd ${m.workerd ?? "?"}; wrk: ${m.wrk ?? "absent"}; nginx: ${m.nginx ?? "absent"}; varnish: ${m.varnish ?? "absent"}`;
}

export function commandExists(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
