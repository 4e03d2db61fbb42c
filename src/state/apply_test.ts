// Proves the state machine's job rules: Dkron's update merge, parent/child bookkeeping, cycle and
// delete refusals, execution bookkeeping, and that a refused command changes nothing.
import { describe, expect, test } from "bun:test";
import { apply } from "./apply.ts";
import type { Execution } from "./execution.ts";
import { type Job, parseJobBody } from "./job.ts";
import { MemoryStateStore } from "./store_port.ts";

const job = (name: string, extra: Record<string, unknown> = {}): Job =>
  parseJobBody({
    name,
    schedule: "@every 10s",
    executor: "shell",
    executor_config: { command: "date" },
    ...extra,
  });

function upsert(store: MemoryStateStore, j: Job) {
  const r = apply(store, { type: "job.upsert", job: j });
  if (!r.ok) throw r.error;
  return r.job as Job;
}

const exec = (
  jobName: string,
  group: number,
  status: Execution["status"],
  success = false,
): Execution => ({
  id: `${group}-1`,
  job_name: jobName,
  group,
  attempt: 1,
  status,
  started_at: group,
  finished_at: status === "running" ? null : group + 5,
  success,
  node_name: "n1",
  exit_code: success ? 0 : 1,
  output_size: 0,
  output_tail: "",
  reason: "",
  lease_until: null,
});

describe("apply job.upsert", () => {
  test("an update keeps runtime fields that clients cannot reset", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    s.putJob({
      ...(s.getJob("a") as Job),
      success_count: 5,
      error_count: 2,
      last_success: 1000,
      status: "success",
    });
    const after = upsert(s, job("a", { success_count: 0, last_success: null, status: "" }));
    expect(after.success_count).toBe(5);
    expect(after.error_count).toBe(2);
    expect(after.last_success).toBe(1000);
    expect(after.status).toBe("success");
  });

  test("a child is listed by its parent, moves on re-parenting, and leaves when it becomes independent", () => {
    const s = new MemoryStateStore();
    upsert(s, job("p1"));
    upsert(s, job("p2"));
    upsert(s, job("c", { parent_job: "p1", schedule: "" }));
    expect(s.getJob("p1")?.dependent_jobs).toEqual(["c"]);
    upsert(s, job("c", { parent_job: "p2", schedule: "" }));
    expect(s.getJob("p1")?.dependent_jobs).toBeNull();
    expect(s.getJob("p2")?.dependent_jobs).toEqual(["c"]);
    upsert(s, job("c"));
    expect(s.getJob("p2")?.dependent_jobs).toBeNull();
  });

  test("a missing parent is refused and nothing is stored", () => {
    const s = new MemoryStateStore();
    const r = apply(s, { type: "job.upsert", job: job("c", { parent_job: "nope", schedule: "" }) });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.kind).toBe("not_found");
    expect(!r.ok && r.error.message).toContain('specified parent job not found: "nope"');
    expect(s.getJob("c")).toBeUndefined();
  });

  test("cycles of any length are refused", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    upsert(s, job("b", { parent_job: "a", schedule: "" }));
    upsert(s, job("c", { parent_job: "b", schedule: "" }));
    const r = apply(s, { type: "job.upsert", job: job("a", { parent_job: "c", schedule: "" }) });
    expect(!r.ok && r.error.message).toContain("would create a cycle: a -> c -> b -> a");
    expect(s.getJob("a")?.parent_job).toBe("");
    expect(s.getJob("c")?.dependent_jobs).toBeNull();
  });
});

describe("apply job.delete", () => {
  test("deleting a job with children is refused with a clear message", () => {
    const s = new MemoryStateStore();
    upsert(s, job("p"));
    upsert(s, job("c", { parent_job: "p", schedule: "" }));
    const r = apply(s, { type: "job.delete", name: "p" });
    expect(!r.ok && r.error.kind).toBe("conflict");
    expect(!r.ok && r.error.message).toContain("has dependent jobs (c); delete children first");
    expect(s.getJob("p")).toBeDefined();
  });

  test("deleting a child removes it from its parent and deletes its executions", () => {
    const s = new MemoryStateStore();
    upsert(s, job("p"));
    upsert(s, job("c", { parent_job: "p", schedule: "" }));
    apply(s, { type: "execution.start", execution: exec("c", 1, "running") });
    expect(apply(s, { type: "job.delete", name: "c" }).ok).toBe(true);
    expect(s.getJob("p")?.dependent_jobs).toBeNull();
    expect(s.executionsOf("c")).toEqual([]);
  });

  test("deleting a missing job is not_found", () => {
    const r = apply(new MemoryStateStore(), { type: "job.delete", name: "x" });
    expect(!r.ok && r.error.kind).toBe("not_found");
  });
});

describe("apply executions", () => {
  test("finish updates counters, last times and status; a second finish is refused", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    apply(s, { type: "execution.start", execution: exec("a", 100, "running") });
    expect(s.executionsOf("a")[0]?.status).toBe("running");
    const r = apply(s, { type: "execution.finish", execution: exec("a", 100, "success", true) });
    expect(r.ok).toBe(true);
    expect(s.getJob("a")).toMatchObject({ success_count: 1, last_success: 105, status: "success" });
    const again = apply(s, { type: "execution.finish", execution: exec("a", 100, "failed") });
    expect(!again.ok && again.error.message).toContain("already finished");
    expect(s.getJob("a")?.error_count).toBe(0);
  });

  test("the same execution id cannot start twice", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    expect(apply(s, { type: "execution.start", execution: exec("a", 1, "running") }).ok).toBe(true);
    expect(apply(s, { type: "execution.start", execution: exec("a", 1, "running") }).ok).toBe(
      false,
    );
  });

  test("clear deletes finished executions, resets counters and status, spares running ones", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    apply(s, { type: "execution.start", execution: exec("a", 1, "running") });
    apply(s, { type: "execution.finish", execution: exec("a", 1, "failed") });
    apply(s, { type: "execution.start", execution: exec("a", 2, "running") });
    const r = apply(s, { type: "executions.clear", job: "a" });
    expect(r.ok && r.job).toMatchObject({ error_count: 0, last_error: null, status: "" });
    expect(s.executionsOf("a").map((e) => e.id)).toEqual(["2-1"]);
  });

  test("at most executionsPerJobMax finished executions are kept, oldest dropped", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    for (let i = 1; i <= 105; i++) {
      apply(s, { type: "execution.finish", execution: exec("a", i, "success", true) });
    }
    const kept = s.executionsOf("a");
    expect(kept.length).toBe(100);
    expect(kept[0]?.group).toBe(6);
  });

  test("running executions are never trimmed by retention", () => {
    const s = new MemoryStateStore();
    upsert(s, job("a"));
    for (let i = 1; i <= 105; i++) {
      apply(s, { type: "execution.start", execution: exec("a", i, "running") });
    }
    expect(s.executionsOf("a").length).toBe(105);
  });
});
