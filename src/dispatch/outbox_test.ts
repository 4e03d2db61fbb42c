// Proves the worker's finish outbox (re-sent to each new session until applied, bounded with a
// counted drop of the oldest) and the finish rule apply() follows: the first final record wins,
// applying the same finish twice is a no-op, a finish after `lost` changes nothing.
import { describe, expect, test } from "bun:test";
import type { Execution } from "../state/mod.ts";
import { FinishOutbox, finishOutcome, type FinishReport, orphanReports } from "./outbox.ts";

const running = (id = "1-1-w1"): Execution => ({
  id,
  job_name: "j",
  group: 1,
  attempt: 1,
  status: "running",
  started_at: 100,
  finished_at: null,
  success: false,
  node_name: "w1",
  exit_code: null,
  output_size: 0,
  output_tail: "",
  reason: "",
  lease_until: 15_100,
});

const report = (over: Partial<FinishReport> = {}): FinishReport => ({
  job: "j",
  executionId: "1-1-w1",
  node: "w1",
  status: "success",
  exitCode: 0,
  startedAtMs: 110,
  finishedAtMs: 900,
  outputSize: 3,
  outputTail: "ok\n",
  reason: "",
  ...over,
});

describe("finishOutcome", () => {
  test("a running record becomes the final one, with the worker's facts", () => {
    const o = finishOutcome(running(), report());
    expect(o).toEqual({
      kind: "apply",
      execution: {
        ...running(),
        status: "success",
        success: true,
        exit_code: 0,
        started_at: 110,
        finished_at: 900,
        output_size: 3,
        output_tail: "ok\n",
        lease_until: null,
      },
    });
  });

  test("applying the same finish twice is a no-op, not a conflict", () => {
    const first = finishOutcome(running(), report());
    if (first.kind !== "apply") throw new Error("expected apply");
    expect(finishOutcome(first.execution, report())).toEqual({ kind: "duplicate" });
  });

  test("a finish after the run was declared lost changes nothing (never both)", () => {
    const lost = finishOutcome(running(), report({ status: "lost", exitCode: null }));
    if (lost.kind !== "apply") throw new Error("expected apply");
    expect(finishOutcome(lost.execution, report())).toEqual({
      kind: "superseded",
      recorded: "lost",
    });
    // And the other way round: a lost decided after the finish is applied is dropped.
    const done = finishOutcome(running(), report());
    if (done.kind !== "apply") throw new Error("expected apply");
    expect(finishOutcome(done.execution, report({ status: "lost" })).kind).toBe("superseded");
  });

  test("a finish with no record resurrects nothing", () => {
    expect(finishOutcome(undefined, report())).toEqual({ kind: "unknown" });
  });

  test("a finish from another node, of another id or not final is refused with a message", () => {
    expect(finishOutcome(running(), report({ node: "w2" }))).toMatchObject({ kind: "invalid" });
    expect(finishOutcome(running("2-1-w1"), report())).toMatchObject({ kind: "invalid" });
    const notFinal = report({ status: "running" as unknown as "success" });
    expect(finishOutcome(running(), notFinal)).toMatchObject({
      kind: "invalid",
      message: "finish of j/1-1-w1 is not final",
    });
  });
});

describe("FinishOutbox", () => {
  test("an entry is sent once per session until applied, and again on a new session", () => {
    const o = new FinishOutbox();
    const { write } = o.enqueue(report());
    expect(write).toEqual({ put: [{ key: "j/1-1-w1", report: report() }], delete: [] });
    expect(o.due(1, 0, 5_000).map((e) => e.key)).toEqual(["j/1-1-w1"]);
    expect(o.due(1, 4_999, 5_000)).toEqual([]); // in flight on this session
    expect(o.due(2, 5_000, 5_000).map((e) => e.key)).toEqual(["j/1-1-w1"]); // leader changed
    expect(o.due(2, 10_000, 5_000).map((e) => e.key)).toEqual(["j/1-1-w1"]); // no answer: resend
    expect(o.applied("j/1-1-w1")).toEqual({ put: [], delete: ["j/1-1-w1"] });
    expect(o.applied("j/1-1-w1")).toBeUndefined();
    expect(o.due(3, 20_000, 5_000)).toEqual([]);
  });

  test("a restarted worker re-sends everything it persisted", () => {
    const o = new FinishOutbox();
    o.enqueue(report());
    o.due(1, 0);
    const again = new FinishOutbox(o.snapshot());
    expect(again.due(1, 1).map((e) => e.key)).toEqual(["j/1-1-w1"]);
  });

  test("sends are batched oldest first", () => {
    const o = new FinishOutbox();
    for (let i = 0; i < 5; i++) o.enqueue(report({ executionId: `${i}-1-w1` }));
    expect(o.due(1, 0, 5_000, 2).map((e) => e.key)).toEqual(["j/0-1-w1", "j/1-1-w1"]);
    expect(o.due(1, 0, 5_000, 2).map((e) => e.key)).toEqual(["j/2-1-w1", "j/3-1-w1"]);
  });

  test("at the bound the oldest entry is dropped, counted and deleted from disk", () => {
    const o = new FinishOutbox([], 2);
    o.enqueue(report({ executionId: "a" }));
    o.enqueue(report({ executionId: "b" }));
    const r = o.enqueue(report({ executionId: "c" }));
    expect(r.dropped.map((d) => d.key)).toEqual(["j/a"]);
    expect(r.write.delete).toEqual(["j/a"]);
    expect(o.keys()).toEqual(["j/b", "j/c"]);
    expect(o.counters.dropped).toBe(1);
    // The same key again replaces its report instead of dropping another entry.
    expect(o.enqueue(report({ executionId: "b", status: "failed" })).dropped).toEqual([]);
    expect(o.size).toBe(2);
  });

  test("after a restart, accepted runs that are neither queued nor running become lost", () => {
    const o = new FinishOutbox();
    o.enqueue(report({ executionId: "done" }));
    const orphans = orphanReports(
      ["j/done", "j/alive", "a/b/gone"],
      o,
      new Set(["j/alive"]),
      "w1",
      5_000,
    );
    expect(orphans.map((r) => [r.job, r.executionId, r.status, r.reason])).toEqual([
      ["a/b", "gone", "lost", "lost: the worker restarted while it ran"],
    ]);
  });
});
