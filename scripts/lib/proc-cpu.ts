/**
 * CPU time of the processes serving a benchmark, from Linux's /proc: `utime` + `stime` of
 * /proc/<pid>/stat (fields 14 and 15, in clock ticks), read before and after a run. Divided by the
 * requests the run served, that is the server's CPU per request, whatever the load generator spent.
 * Where /proc is absent (not Linux) every reading is null and the figure is reported as unknown.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** User + system CPU time in clock ticks. */
  ticks: number;
}

/**
 * Parses one /proc/<pid>/stat line. `comm` is in parentheses and may itself hold spaces and ")"
 * (a process may name itself anything), so the fields are counted from the LAST ")".
 */
export function parseProcStat(line: string): ProcStat | null {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open).trim());
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid, comm: line.slice(open + 1, close), ppid, ticks: utime + stime };
}

let ticksPerSecond: number | null = null;

/** The kernel's clock tick rate (`getconf CLK_TCK`, 100 on every common Linux). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** Every process whose parent chain leads to `ancestor` (this process by default). */
export function descendants(ancestor = process.pid): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const all = entries.map((name) => readStat(Number(name))).filter((s): s is ProcStat => s !== null);
  const children = new Map<number, ProcStat[]>();
  for (const s of all) (children.get(s.ppid) ?? children.set(s.ppid, []).get(s.ppid)!).push(s);
  const out: ProcStat[] = [];
  const queue = [ancestor];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** PIDs of this process's descendants named `comm` (e.g. "workerd"). */
export function descendantPids(comm: string): number[] {
  return descendants()
    .filter((s) => s.comm === comm)
    .map((s) => s.pid);
}

/** Total user + system CPU of `pids` in milliseconds, or null when any of them cannot be read. */
export function cpuMillis(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  let ticks = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat === null) return null;
    ticks += stat.ticks;
  }
  return (ticks * 1000) / clockTicksPerSecond();
}

/** Runs `work` and returns its result with the CPU milliseconds `pids` spent meanwhile (null: unknown). */
export async function withCpu<T>(pids: readonly number[], work: () => Promise<T>): Promise<{ value: T; cpuMs: number | null }> {
  const before = cpuMillis(pids);
  const value = await work();
  const after = cpuMillis(pids);
  return { value, cpuMs: before === null || after === null ? null : after - before };
}
