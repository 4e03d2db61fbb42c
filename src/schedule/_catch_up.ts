/**
 * Catch-up after downtime or a leader change (DESIGN §1 guarantee 2, "no silent misses"): given
 * the last fired slot and now, which slots run and which are recorded as missed, by policy.
 */
import { assert, limits } from "../lib/mod.ts";
import { type Schedule, slotsBetween } from "./_spec.ts";

/** What to do with slots that passed while nobody fired them (a Tock job field). */
export type MisfirePolicy = "skip" | "run_once" | "run_all";

/** Why a slot was not run. */
export type MissedReason =
  | "skip" // the policy is skip
  | "deadline" // older than starting_deadline
  | "run_once" // coalesced: run_once ran a later slot instead
  | "run_all_cap"; // run_all ran the latest runAllMax slots only

/** A slot that will not run, with the reason to record on its `missed` execution. */
export interface MissedSlot {
  slotMs: number;
  reason: MissedReason;
}

/** The decision for one job. `run` is ascending; `missed` holds the latest missed slots. */
export interface CatchUpPlan {
  run: number[];
  missed: MissedSlot[];
  /** True when more slots were missed than `missed` lists (older ones, over missedMax). */
  missedTruncated: boolean;
}

/** Inputs of planCatchUp; times in epoch ms. */
export interface CatchUpOptions {
  /** The last slot that fired (or the job's creation time when it never fired). */
  lastSlotMs: number;
  nowMs: number;
  policy: MisfirePolicy;
  /** Slots older than now - startingDeadlineMs are missed whatever the policy. */
  startingDeadlineMs: number;
  /** run_all runs at most this many (the latest). */
  runAllMax: number;
  /** At most this many missed slots are listed (the latest). */
  missedMax: number;
}

/** The latest `k` slots in [fromMs, toMs), ascending. Cost grows with the slots it reads. */
export function lastSlots(s: Schedule, fromMs: number, toMs: number, k: number): number[] {
  assert(k >= 0 && k <= limits.slotsPerCallMax, `lastSlots k ${k} out of range`);
  if (k === 0 || fromMs >= toMs) return [];
  // Widen a window back from toMs until it holds k slots or reaches fromMs ...
  let width = 1_000;
  let start = Math.max(fromMs, toMs - width);
  while (start > fromMs && slotsBetween(s, start, toMs, k).length < k) {
    width *= 2;
    start = Math.max(fromMs, toMs - width);
  }
  // ... then read it forward in pages, keeping the last k.
  const page = limits.slotsPerCallMax;
  let kept: number[] = [];
  let at = start;
  for (;;) {
    const got = slotsBetween(s, at, toMs, page);
    kept = kept.concat(got).slice(-k);
    if (got.length < page) break;
    at = (got[got.length - 1] as number) + 1;
  }
  return kept;
}

/**
 * Which of the slots in (lastSlotMs, nowMs] run and which are missed:
 * - skip: none run; all are missed ("skip").
 * - run_once (Tock's default): the latest slot within the deadline runs; the other recent ones
 *   are missed ("run_once").
 * - run_all: the latest runAllMax slots within the deadline run, oldest first; earlier recent
 *   ones are missed ("run_all_cap").
 * Slots older than nowMs - startingDeadlineMs are always missed ("deadline").
 */
export function planCatchUp(s: Schedule, o: CatchUpOptions): CatchUpPlan {
  assert(o.startingDeadlineMs >= 0, "startingDeadlineMs must not be negative");
  assert(o.runAllMax >= 1 && o.missedMax >= 0, "runAllMax >= 1 and missedMax >= 0");
  const from = Math.floor(o.lastSlotMs) + 1;
  const to = Math.floor(o.nowMs) + 1;
  if (from >= to) return { run: [], missed: [], missedTruncated: false };
  const recentFrom = Math.max(from, to - 1 - o.startingDeadlineMs);
  const runCount = o.policy === "skip" ? 0 : o.policy === "run_once" ? 1 : o.runAllMax;
  const recent = lastSlots(
    s,
    recentFrom,
    to,
    Math.min(limits.slotsPerCallMax, runCount + o.missedMax + 1),
  );
  const run = recent.slice(recent.length - Math.min(runCount, recent.length));
  const reason: MissedReason = o.policy === "skip"
    ? "skip"
    : o.policy === "run_once"
    ? "run_once"
    : "run_all_cap";
  const missed: MissedSlot[] = recent.slice(0, recent.length - run.length).map((slotMs) => ({
    slotMs,
    reason,
  }));
  const recentComplete = recent.length < runCount + o.missedMax + 1;
  if (recentComplete && missed.length <= o.missedMax) {
    const older = lastSlots(s, from, recentFrom, o.missedMax + 1 - missed.length);
    missed.unshift(...older.map((slotMs) => ({ slotMs, reason: "deadline" as const })));
  }
  const missedTruncated = missed.length > o.missedMax || !recentComplete;
  return {
    run,
    missed: missed.slice(missed.length - Math.min(missed.length, o.missedMax)),
    missedTruncated,
  };
}
