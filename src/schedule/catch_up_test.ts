// Proves catch-up planning: for each misfire policy which slots in (lastSlot, now] run and which
// are recorded as missed with which reason, the starting deadline, the run_all cap, the missed
// list bound, and lastSlots on dense and bursty schedules (checked against full enumeration).
import { describe, expect, test } from "bun:test";
import { lastSlots, parseSchedule, planCatchUp, slotsBetween } from "./mod.ts";

const min = 60_000;
const t0 = Date.UTC(2026, 0, 1);
const everyMinute = parseSchedule("0 * * * * *", { jobName: "j", timezone: "" });
const base = {
  lastSlotMs: t0,
  nowMs: t0 + 10 * min + 30_000, // slots at t0+1m .. t0+10m are due
  startingDeadlineMs: 60 * min,
  runAllMax: 100,
  missedMax: 100,
};

describe("planCatchUp", () => {
  test("run_once runs the latest due slot and records the others as missed", () => {
    const p = planCatchUp(everyMinute, { ...base, policy: "run_once" });
    expect(p.run).toEqual([t0 + 10 * min]);
    expect(p.missed.map((m) => m.slotMs)).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => t0 + i * min),
    );
    expect(new Set(p.missed.map((m) => m.reason))).toEqual(new Set(["run_once"]));
    expect(p.missedTruncated).toBe(false);
  });

  test("skip runs nothing and records every due slot", () => {
    const p = planCatchUp(everyMinute, { ...base, policy: "skip" });
    expect(p.run).toEqual([]);
    expect(p.missed.length).toBe(10);
    expect(p.missed.every((m) => m.reason === "skip")).toBe(true);
  });

  test("run_all runs every due slot in order, capped at the latest runAllMax", () => {
    expect(planCatchUp(everyMinute, { ...base, policy: "run_all" })).toEqual({
      run: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => t0 + i * min),
      missed: [],
      missedTruncated: false,
    });
    const capped = planCatchUp(everyMinute, { ...base, policy: "run_all", runAllMax: 3 });
    expect(capped.run).toEqual([8, 9, 10].map((i) => t0 + i * min));
    expect(capped.missed.map((m) => [m.slotMs, m.reason])).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => [t0 + i * min, "run_all_cap"]),
    );
  });

  test("slots older than the starting deadline are missed whatever the policy", () => {
    const p = planCatchUp(everyMinute, { ...base, policy: "run_all", startingDeadlineMs: 3 * min });
    // now = 10m30s; deadline 3m: slots at 8, 9, 10 are recent.
    expect(p.run).toEqual([8, 9, 10].map((i) => t0 + i * min));
    expect(p.missed.map((m) => [m.slotMs, m.reason])).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => [t0 + i * min, "deadline"]),
    );
    const none = planCatchUp(everyMinute, {
      ...base,
      policy: "run_once",
      startingDeadlineMs: 10_000,
    });
    expect(none.run).toEqual([]);
    expect(none.missed.length).toBe(10);
  });

  test("the missed list keeps the latest missedMax and says it was truncated", () => {
    const p = planCatchUp(everyMinute, {
      ...base,
      nowMs: t0 + 1_000 * min,
      policy: "run_once",
      missedMax: 5,
    });
    expect(p.run).toEqual([t0 + 1_000 * min]);
    expect(p.missed.map((m) => m.slotMs)).toEqual(
      [995, 996, 997, 998, 999].map((i) => t0 + i * min),
    );
    expect(p.missedTruncated).toBe(true);
    const exact = planCatchUp(everyMinute, { ...base, policy: "run_once", missedMax: 9 });
    expect(exact.missedTruncated).toBe(false);
    expect(exact.missed.length).toBe(9);
  });

  test("nothing is due when now is not after the last slot; @manually never catches up", () => {
    expect(planCatchUp(everyMinute, { ...base, nowMs: t0, policy: "run_all" })).toEqual({
      run: [],
      missed: [],
      missedTruncated: false,
    });
    const manual = parseSchedule("@manually", { jobName: "j", timezone: "" });
    expect(planCatchUp(manual, { ...base, policy: "run_all" }).run).toEqual([]);
  });

  test("a slot exactly at now is due; one exactly at lastSlot is not", () => {
    const p = planCatchUp(everyMinute, { ...base, nowMs: t0 + 2 * min, policy: "run_all" });
    expect(p.run).toEqual([t0 + min, t0 + 2 * min]);
  });
});

describe("lastSlots", () => {
  test("matches the tail of a full enumeration on dense, sparse and bursty schedules", () => {
    const specs = ["*/10 * * * * *", "0 0 0 1 * *", "* * 3 * * *", "*/7 * * * * mon"];
    const from = t0;
    const to = t0 + 9 * 86_400_000 + 12_345;
    for (const spec of specs) {
      const s = parseSchedule(spec, { jobName: "j", timezone: "Europe/Berlin" });
      const all = slotsBetween(s, from, to, 100_000);
      for (const k of [1, 5, 1000]) {
        expect([spec, k, ...lastSlots(s, from, to, k)]).toEqual([spec, k, ...all.slice(-k)]);
      }
    }
  });

  test("pages through more slots than one slotsBetween call returns", () => {
    const s = parseSchedule("* * * * * *", { jobName: "j", timezone: "" });
    // A January-only burst: the window back from `to` holds 250k per-second slots.
    const to = t0 + 250_000 * 1000;
    expect(lastSlots(s, t0, to, 3)).toEqual([to - 3000, to - 2000, to - 1000]);
    const burst = parseSchedule("* * * * 1 *", { jobName: "j", timezone: "" });
    const march = Date.UTC(2026, 2, 1);
    expect(lastSlots(burst, t0, march, 2)).toEqual([
      Date.UTC(2026, 1, 1) - 2000,
      Date.UTC(2026, 1, 1) - 1000,
    ]);
  });
});
