/**
 * schedule: job schedule specs (Dkron's syntax plus Tock's improvements) and their slots.
 *
 * Pure: no clock reads. Every instant comes in and goes out as epoch milliseconds, so the
 * leader, a restarted leader and a simulator all compute the same slots.
 *
 * Syntax (Dkron, reference/dkron.md §3):
 * - 6 fields `sec min hour dom month dow`, or 5 fields `min hour dom month dow` (sec = 0).
 *   `*`, `?` (= `*`), lists, ranges, `*\/n`, `a-b/n`, `a/n` (= a to max, step n). Month and
 *   weekday names are case-insensitive. Day of week is 0-6, Sunday = 0 (7 is rejected, as in
 *   Dkron). No `L`, `W` or `#`.
 * - Day of month and day of week: if either is `*`/`?` both must match (AND); if both are
 *   restricted either may match (OR). `*\/2` counts as restricted, as in robfig/cron.
 * - `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly` `@minutely`,
 *   `@every <Go duration>`, `@at <RFC3339>`, `@manually`.
 * - `TZ=<zone> ` or `CRON_TZ=<zone> ` prefix; it wins over the job's timezone.
 * - `~` (Dkron): replaced by a value from the sum of the job name's code points (sec/min mod 60,
 *   hour mod 24, dom mod 28 + 1, month mod 12 + 1, dow mod 7).
 * - `H`, `H/n`, `H(a-b)`, `H(a-b)/n` (Jenkins): a stable hash of the job name, different per
 *   field; a bare H in day of month stays within 1-28.
 *
 * Decisions and deliberate improvements over Dkron:
 * - Job timezone "" means UTC (Dkron: the server's local zone, which differs between nodes).
 *   "Local" means the zone of the process computing slots; avoid it in a cluster.
 * - The job timezone also applies to descriptors (`@daily` is midnight in the job's zone; Dkron
 *   ignores the timezone for descriptors).
 * - `@every d` is aligned to the Unix epoch: its slots are k × d, so its phase survives
 *   restarts and leader changes (Dkron: relative to when the entry was added). d is truncated
 *   to whole seconds and must then be at least 1 s (Dkron silently raises it to 1 s).
 * - DST: a wall time that does not exist (clocks jump forward) is skipped; a wall time that
 *   occurs twice (clocks go back) fires once, at its first occurrence.
 * - Slots are computed by Tock's own field stepper (_cron.ts), not by croner at run time:
 *   croner's DST rules differ (a fixed-time job in a gap runs after the gap; an interval job
 *   fires twice in a repeated hour), it accepts syntax Dkron rejects (L, W, #, +, 7 = Sunday,
 *   a year field) and its errors do not name the field. croner is kept as an independent oracle:
 *   schedule_test.ts checks random specs against it. croner's default (domAndDow: false, the
 *   same as the deprecated legacyMode: true) is the Vixie/robfig DOM/DOW rule Dkron follows.
 * - A cron spec that can never fire (`0 0 0 30 2 *`) is rejected at parse time; nextSlot looks
 *   10 years ahead (robfig: 5) so that 29 February specs keep working.
 */
export {
  nextSlot,
  nextSlots,
  parseSchedule,
  type Schedule,
  type ScheduleOptions,
  slotsBetween,
  validateAtNotPast,
} from "./_spec.ts";
export {
  type CatchUpOptions,
  type CatchUpPlan,
  lastSlots,
  type MisfirePolicy,
  type MissedReason,
  type MissedSlot,
  planCatchUp,
} from "./_catch_up.ts";
