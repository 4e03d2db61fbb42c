/** A job's slots: its schedule bounded by parent, starts_at and expires_at. */
import { parseGoDuration } from "../lib/mod.ts";
import { nextSlot, nextSlots, parseSchedule, type Schedule } from "../schedule/mod.ts";
import { type Job, timezoneExists } from "../state/mod.ts";

/** The job's parsed schedule, or undefined for child jobs (they run after their parent). */
export function scheduleOf(job: Job): Schedule | undefined {
  if (job.parent_job !== "" || job.schedule === "") return undefined;
  return parseSchedule(job.schedule, {
    jobName: job.name,
    timezone: timezoneExists(job.timezone) ? job.timezone : "",
  });
}

/** The next `n` slots strictly after `afterMs`, within starts_at and expires_at. */
export function nextRunsOf(job: Job, afterMs: number, n: number): number[] {
  const schedule = scheduleOf(job);
  if (!schedule) return [];
  const from = job.starts_at !== null && job.starts_at > afterMs ? job.starts_at - 1 : afterMs;
  const slots = n === 1
    ? [nextSlot(schedule, from)].filter((s): s is number => s !== undefined)
    : nextSlots(schedule, from, n);
  return job.expires_at === null ? slots : slots.filter((s) => s <= (job.expires_at as number));
}

export function nextRunOf(job: Job, afterMs: number): number | null {
  return nextRunsOf(job, afterMs, 1)[0] ?? null;
}

export const startingDeadlineMs = (job: Job): number => parseGoDuration(job.starting_deadline);

/** Delay before retry `attempt` (2, 3, ...): retry_delay doubled per attempt, capped. */
export function retryDelayMs(job: Job, nextAttempt: number): number {
  const base = parseGoDuration(job.retry_delay);
  const max = parseGoDuration(job.retry_delay_max);
  return Math.min(max, base * 2 ** Math.max(0, nextAttempt - 2));
}
