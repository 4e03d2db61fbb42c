// Proves the state machine's log handling: a request id applied twice changes state once (a
// retried forward), Raft's no-op and configuration entries advance applied_index without
// touching jobs, and a snapshot file installed over state.db replaces the state and reloads the
// job cache (then the store keeps applying after the snapshot's index).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { limits } from "../lib/mod.ts";
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

describe("request-id window", () => {
  test("two replicas applying the same entries in different batches keep the same request ids", async () => {
    // Entries 1..end with request ids at a few indexes (the rest no-ops); r1 is retried late,
    // after the window has passed it. Replica A gets one batch, replica B splits it right at a
    // cleanup index and again just before the retry: both must end identical.
    const keep = limits.requestIdsKeptEntries;
    const boundary = Math.ceil((keep + 1) / 1024) * 1024; // first index whose cut is > 0
    const cut = boundary - keep;
    const retryAt = boundary + 8;
    const end = boundary + 48;
    const ridAt = new Map<number, string>([
      [1, "r1"],
      [cut - 1, "below-cut"],
      [cut + 10, "above-cut"],
      [cut + 20, "above-cut-2"],
      [retryAt, "r1"],
    ]);
    const entries = (from: number, to: number) => {
      const out = [];
      for (let i = from; i <= to; i++) {
        const rid = ridAt.get(i);
        if (rid === "r1") {
          out.push({ cmd: { type: "job.upsert" as const, job: job(`j${i}`) }, rid });
        } else if (rid !== undefined) {
          out.push({ cmd: { type: "job.delete" as const, name: "x" }, rid });
        } else out.push({ cmd: null });
      }
      return out;
    };
    const a = await open("window-a.db");
    const dupA = a.applyLog(1, entries(1, end)).filter((x) => x.duplicate).map((x) => x.index);
    const b = await open("window-b.db");
    const dupB = [
      ...b.applyLog(1, entries(1, boundary)),
      ...b.applyLog(boundary + 1, entries(boundary + 1, retryAt - 1)),
      ...b.applyLog(retryAt, entries(retryAt, end)),
    ].filter((x) => x.duplicate).map((x) => x.index);
    expect(dupA).toEqual(dupB);
    const rids = ["r1", "below-cut", "above-cut", "above-cut-2"];
    expect(rids.map((r) => a.hasRequest(r))).toEqual(rids.map((r) => b.hasRequest(r)));
    expect(rids.map((r) => b.hasRequest(r))).toEqual([true, false, true, true]);
    expect([...a.jobsView()].map((j) => j.name).sort()).toEqual(
      [...b.jobsView()].map((j) => j.name).sort(),
    );
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
