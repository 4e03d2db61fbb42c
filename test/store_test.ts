// Proves state.db durability: a restarted node keeps every job and execution, and a process
// killed with SIGKILL while writing leaves a readable database holding every acknowledged job.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRuntime } from "../src/runtime/mod.ts";
import { parseJobBody } from "../src/state/mod.ts";
import { SqliteStateStore } from "../src/store/mod.ts";
import { slowWait, startAgent, until } from "./support/proc.ts";

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
      "--dev",
      "--http-addr",
      "127.0.0.1:0",
      "--data-dir",
      dataDir,
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
