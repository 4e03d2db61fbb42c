// Proves the state machine's log handling: a request id applied twice changes state once (a
// retried forward), Raft's no-op and configuration entries advance applied_index without
// touching jobs, and a snapshot file installed over state.db replaces the state and reloads the
// job cache (then the store keeps applying after the snapshot's index).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRuntime } from "../runtime/mod.ts";
import { parseJobBody } from "../state/mod.ts";
import { SqliteStateStore } from "./state_store.ts";

const dir = mkdtempSync(join(tmpdir(), "state-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (name: string) =>
  parseJobBody({
    name,
    schedule: "@every 1m",
    executor: "shell",
    executor_config: { command: "true" },
  });

async function open(name: string): Promise<SqliteStateStore> {
  const rt = await loadRuntime();
  const path = join(dir, name);
  return new SqliteStateStore(rt.openDb(path), { path, open: (p) => rt.openDb(p) });
}

describe("applyLog", () => {
  test("a request id seen before applies as a no-op: the write happens once", async () => {
    const s = await open("dedupe.db");
    const first = s.applyLog(1, [{
      cmd: { type: "execution.start", execution: exec("a") },
      rid: "r1",
    }]);
    expect(first[0]?.result?.ok).toBe(false); // job "a" does not exist yet: refused, recorded
    s.applyLog(2, [{ cmd: { type: "job.upsert", job: job("a") }, rid: "r2" }]);
    const again = s.applyLog(3, [{ cmd: { type: "job.delete", name: "a" }, rid: "r2" }]);
    expect(again[0]?.duplicate).toBe(true);
    expect(s.peekJob("a")?.name).toBe("a");
    expect(s.appliedIndex).toBe(3);
  });

  test("no-op and config entries advance applied_index and leave jobs alone", async () => {
    const s = await open("noop.db");
    s.applyLog(1, [{ cmd: { type: "job.upsert", job: job("b") } }]);
    const seen: string[] = [];
    s.onApplied((cmd) => seen.push(cmd.type));
    const r = s.applyLog(2, [{ cmd: null }, { cmd: null }]);
    expect(r.map((x) => x.result)).toEqual([undefined, undefined]);
    expect(s.appliedIndex).toBe(3);
    expect([...s.jobsView()].map((j) => j.name)).toEqual(["b"]);
    expect(seen).toEqual([]);
  });
});

describe("snapshots", () => {
  test("a snapshot copy installed over state.db replaces the state and reloads the cache", async () => {
    const leader = await open("leader.db");
    leader.applyLog(1, [{ cmd: { type: "job.upsert", job: job("x") } }, {
      cmd: { type: "job.upsert", job: job("y") },
    }]);
    const snap = join(dir, "snap-2.db");
    leader.snapshotTo(snap);
    const follower = await open("follower.db");
    follower.applyLog(1, [{ cmd: { type: "job.upsert", job: job("stale") } }]);
    let reloaded = 0;
    follower.onReloaded(() => reloaded++);
    follower.install(snap);
    expect(reloaded).toBe(1);
    expect(follower.appliedIndex).toBe(2);
    expect([...follower.jobsView()].map((j) => j.name).sort()).toEqual(["x", "y"]);
    follower.applyLog(3, [{ cmd: { type: "job.delete", name: "x" } }]);
    expect(follower.peekJob("x")).toBeUndefined();
    follower.close();
    const reopened = await open("follower.db");
    expect(reopened.appliedIndex).toBe(3);
    expect([...reopened.jobsView()].map((j) => j.name)).toEqual(["y"]);
  });
});

function exec(jobName: string) {
  return {
    id: "1-1",
    job_name: jobName,
    group: 1,
    attempt: 1,
    status: "running" as const,
    started_at: 1,
    finished_at: null,
    success: false,
    node_name: "n1",
    exit_code: null,
    output_size: 0,
    output_tail: "",
    reason: "",
    lease_until: null,
  };
}
