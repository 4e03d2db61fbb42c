/**
 * Schedule core figures: parse cost, nextSlot cost per call (p50/p99 µs) for cron (UTC and a DST
 * zone), @every and @at over a population of jobs sized like the scheduler heap, and the rate
 * of slots produced when walking schedules forward.
 * Usage: bun bench/schedule.ts [--jobs 100000] [--calls 200000]   (also: deno run bench/schedule.ts)
 */
import { parseArgs } from "node:util";
import { nextSlot, parseSchedule, type Schedule, slotsBetween } from "../src/schedule/mod.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "100000" },
    calls: { type: "string", default: "200000" },
  },
});
const jobs = Number(values.jobs);
const calls = Number(values.calls);
const start = Date.UTC(2026, 0, 1);

function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

const kinds: Array<[string, (i: number) => [string, string]]> = [
  ["cron UTC (H H * * * *)", () => ["H H * * * *", ""]],
  ["cron UTC (0 */5 9-17 * * mon-fri)", () => ["0 */5 9-17 * * mon-fri", ""]],
  ["cron New_York (H H H * * *)", () => ["H H H * * *", "America/New_York"]],
  ["cron Berlin (@daily)", () => ["@daily", "Europe/Berlin"]],
  ["every (@every 10s..)", (i) => [`@every ${10 + (i % 3600)}s`, ""]],
  ["at (@at)", (i) => [`@at 2027-01-01T00:${String(i % 60).padStart(2, "0")}:00Z`, ""]],
];

console.log(`schedule bench: ${jobs} jobs per kind, ${calls} nextSlot calls per kind`);
console.log("kind | parse µs/job | nextSlot p50 µs | p99 µs | slots/s (walk)");
for (const [name, make] of kinds) {
  const schedules: Schedule[] = [];
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) {
    const [spec, timezone] = make(i);
    schedules.push(parseSchedule(spec, { jobName: `job-${i}`, timezone }));
  }
  const parseUs = ((performance.now() - t0) * 1000) / jobs;
  const samples: number[] = [];
  let sink = 0;
  for (let i = 0; i < calls; i++) {
    const s = schedules[i % jobs] as Schedule;
    const after = start + ((i * 7_919_000) % (365 * 86_400_000));
    const a = performance.now();
    const next = nextSlot(s, after);
    samples.push((performance.now() - a) * 1000);
    sink += next ?? 0;
  }
  // Walk: the slots of a few schedules over a year, as catch-up and next-N listing do.
  const w0 = performance.now();
  let slots = 0;
  for (let i = 0; i < 20; i++) {
    const s = schedules[i] as Schedule;
    slots += slotsBetween(s, start, start + 365 * 86_400_000, 50_000).length;
  }
  const walkS = (performance.now() - w0) / 1000;
  console.log(
    `${name} | ${parseUs.toFixed(2)} | ${pct(samples, 0.5).toFixed(2)} | ${
      pct(samples, 0.99).toFixed(2)
    } | ${slots === 0 ? "n/a (no slot in 2026)" : Math.round(slots / walkS)}${
      sink === 1 ? " " : ""
    }`,
  );
}
