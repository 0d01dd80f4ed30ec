/**
 * The cron's work (every minute): hand the current pools and monitors to the HealthMonitor, which
 * runs due probes now and keeps its alarm loop for shorter intervals, and point the EventLog at the
 * configured event handlers, and evaluate SLM classes (events, rate shaping factors). Each job has its own error boundary, so one failing job never stops another.
 */
import type { ConfigDocument } from "../config/document";
import type { Env } from "../env";
import { configuredHandlers } from "../events/handlers";

export type ScheduledJob = { name: string; run(): Promise<unknown> };

export function scheduledJobs(config: ConfigDocument, env: Env): ScheduledJob[] {
  const health = env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));
  const events = env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events"));
  const slm = env.SLM_MONITOR.get(env.SLM_MONITOR.idFromName("slm"));
  return [
    { name: "health", run: async () => (await health.configure(config.pools, config.monitors, { verbose: config.settings.verbose }), health.probeDue()) },
    { name: "events", run: () => events.configure({ handlers: configuredHandlers(config.settings) }) },
    { name: "slm", run: () => slm.evaluate(config.slmClasses, config.rateClasses) },
  ];
}

/** Runs every job; returns the names of the jobs that failed, each with its error logged. */
export async function runScheduledJobs(jobs: readonly ScheduledJob[]): Promise<string[]> {
  const results = await Promise.allSettled(jobs.map((job) => job.run()));
  const failed: string[] = [];
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      failed.push(jobs[i]!.name);
      console.error(`scheduled job ${jobs[i]!.name} failed:`, result.reason);
    }
  });
  return failed;
}
