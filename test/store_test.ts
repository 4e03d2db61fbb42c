// Proves state.db durability: a restarted node keeps every job and execution, and a process
// killed with SIGKILL while writing leaves a readable database holding every acknowledged job.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectCode, httpStatus } from "../src/api/mod.ts";
import { limits, TockError } from "../src/lib/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { type Execution, parseJobBody } from "../src/state/mod.ts";
import { SqliteStateStore } from "../src/store/mod.ts";
import { oneMember } from "./support/one_member.ts";
import { devAgentArgs, slowWait, startAgent, until } from "./support/proc.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tock-store-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const job = (name: string) =>
  parseJobBody({
    name,
    schedule: "@every 1m",
    executor: "shell",
    executor_config: { command: "true" },
  });

describe("SqliteStateStore", () => {
  test("a reopened store has every job and the applied index", async () => {
    const rt = await loadRuntime();
    const path = join(tempDir(), "state.db");
    const s1 = new SqliteStateStore(rt.openDb(path));
    for (let i = 1; i <= 50; i++) s1.applyAt(i, { type: "job.upsert", job: job(`j${i}`) });
    s1.close();
    const s2 = new SqliteStateStore(rt.openDb(path));
    expect(s2.appliedIndex).toBe(50);
    expect(s2.jobCount).toBe(50);
    expect(s2.peekJob("j17")?.schedule).toBe("@every 1m");
    s2.close();
  });

  test("a refused command still advances the index and changes nothing", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    const r = s.applyAt(1, { type: "job.delete", name: "missing" });
    expect(r.ok).toBe(false);
    expect(s.appliedIndex).toBe(1);
    expect(s.jobCount).toBe(0);
    expect(() => s.applyAt(3, { type: "job.upsert", job: job("a") })).toThrow("apply out of order");
    s.close();
  });
});

const run = (jobName: string, group: number, status: Execution["status"]): Execution => ({
  id: `${group}-1`,
  job_name: jobName,
  group,
  attempt: 1,
  status,
  started_at: group,
  finished_at: status === "running" ? null : group + 1,
  success: status === "success",
  node_name: "n1",
  exit_code: status === "running" ? null : 0,
  output_size: 0,
  output_tail: "",
  reason: "",
  lease_until: status === "running" ? group + 15_000 : null,
});

describe("execution retention", () => {
  test("retention never deletes a running execution, however many start at once", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    let i = 1;
    s.applyAt(i++, { type: "job.upsert", job: job("a") });
    // 101 manual runs at once (the limit is 100 per job): every one must stay recorded.
    for (let g = 1; g <= 101; g++) {
      const r = s.applyAt(i++, { type: "execution.start", execution: run("a", g, "running") });
      expect(r.ok).toBe(true);
    }
    expect(s.runningExecutions("a").length).toBe(101);
    // The oldest one still renews and finishes.
    expect(s.applyAt(i++, { type: "execution.renew", job: "a", id: "1-1", leaseUntil: 99_999 }).ok)
      .toBe(true);
    const done = { ...run("a", 1, "success") };
    expect(s.applyAt(i++, { type: "execution.finish", execution: done }).ok).toBe(true);
    // Finished records beyond the limit are trimmed, oldest first; running ones are not.
    for (let g = 200; g < 400; g++) {
      s.applyAt(i++, { type: "execution.finish", execution: run("a", g, "success") });
    }
    const all = s.executionsOf("a");
    expect(all.filter((e) => e.status === "running").length).toBe(100);
    const finished = all.filter((e) => e.status !== "running");
    expect(finished.length).toBe(100);
    expect(finished[0]?.group).toBe(300);
    s.close();
  });

  test("clearing a job's history spares running executions and resets its status", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    let i = 1;
    s.applyAt(i++, { type: "job.upsert", job: job("a") });
    s.applyAt(i++, { type: "execution.start", execution: run("a", 1, "running") });
    const failed = { ...run("a", 2, "failed"), success: false };
    s.applyAt(i++, { type: "execution.finish", execution: failed });
    expect(s.peekJob("a")?.status).toBe("failed");
    const r = s.applyAt(i++, { type: "executions.clear", job: "a" });
    expect(r.ok).toBe(true);
    expect(s.executionsOf("a").map((e) => `${e.id}:${e.status}`)).toEqual(["1-1:running"]);
    expect(s.peekJob("a")).toMatchObject({ status: "", error_count: 0, success_count: 0 });
    // The run that was going on finishes normally after the clear.
    const r2 = s.applyAt(i++, { type: "execution.finish", execution: run("a", 1, "success") });
    expect(r2.ok).toBe(true);
    expect(s.peekJob("a")).toMatchObject({ status: "success", success_count: 1 });
    s.close();
  });
});

describe("disk full", () => {
  test("a full disk is reported as disk full, applies nothing, and catches up once space is free", async () => {
    const rt = await loadRuntime();
    const db = rt.openDb(join(tempDir(), "state.db"));
    const s = new SqliteStateStore(db);
    const g = await oneMember(s);
    const log = g.door;
    await log.propose({ type: "job.upsert", job: job("small") });
    const before = s.appliedIndex;
    // Cap the file at its current size (SQLite's stand-in for a full disk).
    const pages = Number(db.prepare("pragma page_count").get()?.["page_count"]);
    db.exec(`pragma max_page_count = ${pages + 1}`);
    const big = { ...job("big"), displayname: "x".repeat(4_000) };
    const cmds = Array.from({ length: 20 }, (_, i) => ({ ...big, name: `big${i}` }));
    const results = await Promise.allSettled(
      cmds.map((j) => log.propose({ type: "job.upsert", job: j })),
    );
    const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    expect(errors.length).toBe(20);
    const err = errors[0] as TockError;
    expect(err).toBeInstanceOf(TockError);
    expect(err.kind).toBe("storage_full");
    expect(err.message).toContain("disk full");
    expect(httpStatus(err.kind)).toBe(507);
    expect(String(connectCode(err.kind))).toBe("8"); // resource_exhausted
    expect(s.appliedIndex).toBe(before);
    expect(s.jobCount).toBe(1);
    expect(g.state.blocked).toBeGreaterThanOrEqual(20);
    // Space is back: the writes are committed in the Raft log, so they apply now, in order,
    // then the next write.
    db.exec("pragma max_page_count = 1073741823");
    await log.propose({ type: "job.upsert", job: cmds[0] as typeof big });
    expect(g.state.blocked).toBe(0);
    expect(s.jobCount).toBe(21);
    expect(s.peekJob("big19")?.name).toBe("big19");
    g.stop();
    s.close();
  });
});

describe("propose under load", () => {
  test("a long queue applies in bounded batches with turns for other work between them", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    const g = await oneMember(s);
    const log = g.door;
    const n = 3_007;
    const batches: number[] = [];
    // Commands per applied batch (one transaction each); Raft's own entries do not count.
    s.onAppliedBatch((items) => {
      const cmds = items.filter((it) => it.cmd !== null).length;
      if (cmds > 0) batches.push(cmds);
    });
    const all = Array.from(
      { length: n },
      (_, i) => log.propose({ type: "job.upsert", job: job(`j${i}`) }),
    );
    // A request arriving now (an I/O callback) is served before the whole queue has applied.
    const servedAt = new Promise<number>((r) => setImmediate(() => r(s.appliedIndex)));
    await Promise.all(all);
    expect(await servedAt).toBeLessThan(n);
    expect(batches.length).toBeGreaterThan(1);
    expect(Math.max(...batches)).toBeLessThanOrEqual(limits.applyBatchMax);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(n);
    expect(s.jobCount).toBe(n);
    s.close();
  });

  test("a full proposal queue answers overloaded (429), not a size error", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    const g = await oneMember(s);
    const log = g.door;
    const all = Array.from(
      { length: limits.proposalQueueMax + 1 },
      (_, i) => log.propose({ type: "job.upsert", job: job(`j${i}`) }),
    );
    const results = await Promise.allSettled(all);
    const refused = results.flatMap((r) => r.status === "rejected" ? [r.reason as TockError] : []);
    expect(refused.length).toBe(1);
    expect(refused[0]?.kind).toBe("overloaded");
    expect(refused[0]?.message).toContain("retry later");
    expect(httpStatus("overloaded")).toBe(429);
    s.close();
  }, 30_000);
});

describe("SqliteStateStore read views for the API", () => {
  test("jobsByName stays in name order across creates, updates and deletes", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    let i = 0;
    for (const n of ["m", "b", "z", "a"]) s.applyAt(++i, { type: "job.upsert", job: job(n) });
    expect(s.jobsByName().map((j) => j.name)).toEqual(["a", "b", "m", "z"]);
    s.applyAt(++i, { type: "job.upsert", job: { ...job("m"), displayname: "changed" } });
    expect(s.jobsByName().find((j) => j.name === "m")?.displayname).toBe("changed");
    s.applyAt(++i, { type: "job.delete", name: "b" });
    s.applyAt(++i, { type: "job.upsert", job: job("c") });
    expect(s.jobsByName().map((j) => j.name)).toEqual(["a", "c", "m", "z"]);
    s.close();
  });

  test("activitySince counts executions by slot and status, and slot-to-start lateness", async () => {
    const rt = await loadRuntime();
    const s = new SqliteStateStore(rt.openDb(join(tempDir(), "state.db")));
    s.applyAt(1, { type: "job.upsert", job: job("act") });
    const exec = (group: number, status: string, startedAt: number | null) => ({
      id: `${group}-1`,
      job_name: "act",
      group,
      attempt: 1,
      status,
      started_at: startedAt,
      finished_at: startedAt === null ? null : startedAt + 5,
      success: status === "success",
      node_name: "n1",
      exit_code: null,
      output_size: 0,
      output_tail: "",
      reason: "",
      lease_until: null,
    });
    const runs = [
      exec(1_000, "success", 1_010),
      exec(2_000, "failed", 2_030),
      exec(3_000, "missed", null),
      exec(9_000, "success", 9_100),
    ];
    let i = 1;
    for (const e of runs) {
      s.applyAt(++i, { type: "execution.start", execution: { ...e, status: "running" } } as never);
      s.applyAt(++i, { type: "execution.finish", execution: e } as never);
    }
    const a = s.activitySince(2_000, 9_000);
    expect(a.byStatus).toEqual({ failed: 1, missed: 1, success: 1 });
    expect(a.recent).toBe(1); // slot 9000; the missed one never launched
    expect(a.latenessP50Ms).toBe(100);
    expect(a.latenessP99Ms).toBe(100);
    const all = s.activitySince(0, 0);
    expect(all.recent).toBe(3);
    expect(all.latenessP50Ms).toBe(30);
    expect(s.activitySince(10_000, 10_000)).toEqual({
      byStatus: {},
      recent: 0,
      latenessP50Ms: null,
      latenessP99Ms: null,
    });
    s.close();
  });
});

describe("process durability", () => {
  test("SIGKILL while writing loses no acknowledged job; restart keeps everything", async () => {
    const dataDir = tempDir();
    const args = [
      ...devAgentArgs(dataDir),
      "--node-name",
      "crash",
    ];
    const a = await startAgent(args);
    const acked: string[] = [];
    let killed = false;
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let i = 0; !killed; i++) {
        const name = `w${w}-${i}`;
        try {
          const res = await fetch(`${a.url}/v1/jobs`, {
            method: "POST",
            body: JSON.stringify({
              name,
              schedule: "@every 1m",
              executor: "shell",
              executor_config: { command: "true" },
            }),
          });
          if (res.status === 201) acked.push(name);
        } catch {
          return; // the server died mid-request: this write was never acknowledged
        }
      }
    });
    await until(
      "some acknowledged writes",
      () => (acked.length >= 200 ? true : undefined),
      slowWait.untilMs,
    );
    a.proc.kill("SIGKILL");
    killed = true;
    await a.exited;
    await Promise.all(writers);
    const b = await startAgent(args);
    try {
      const res = await fetch(`${b.url}/v1/jobs`);
      const names = new Set((await res.json()).map((j: { name: string }) => j.name));
      const lost = acked.filter((n) => !names.has(n));
      expect(lost).toEqual([]);
      expect(names.size).toBeGreaterThanOrEqual(acked.length);
    } finally {
      b.proc.kill("SIGTERM");
      expect(await b.exited).toBe(0);
    }
  }, 60_000);
});
