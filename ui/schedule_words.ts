/**
 * A schedule in words: cronstrue for cron expressions (Tock's six fields, seconds first), and
 * Dkron's descriptors (@every, @daily, @manually...) read here since cronstrue has none.
 */
import cronstrue from "cronstrue";

const descriptors: Record<string, string> = {
  "@yearly": "Once a year, at midnight on 1 January",
  "@annually": "Once a year, at midnight on 1 January",
  "@monthly": "At midnight on the first of every month",
  "@weekly": "At midnight every Sunday",
  "@daily": "Every day at midnight",
  "@midnight": "Every day at midnight",
  "@hourly": "At the start of every hour",
  "@minutely": "Every minute",
  "@manually": "Only when run by hand",
};

export function scheduleWords(schedule: string, parent: string): string {
  const s = schedule.trim();
  if (s === "") return parent !== "" ? `After ${parent} succeeds` : "No schedule";
  const d = descriptors[s];
  if (d !== undefined) return d;
  if (s.startsWith("@every ")) return `Every ${s.slice(7).trim()}`;
  if (s.startsWith("@at ")) return `Once, at ${s.slice(4).trim()}`;
  try {
    return cronstrue.toString(s, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return s;
  }
}
