// Proves the scheduler on a fake clock (no sleeps): one timer for the node, one launch per slot,
// disabled/starts_at/expires_at, every missed-run policy after downtime, forbid/replace/allow,
// manual runs and force, leases that lapse into lost, retries with backoff, chains, ephemeral.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { limits, TockError } from "../src/lib/mod.ts";
import { Harness, settle, t0 } from "./support/scheduler_harness.ts";

let h: Harness;
afterEach(() => h?.scheduler.stop());

const statuses = (name: string) => h.executions(name).map((e) => e.status);

describe("firing", () => {
  test("1,000 idle jobs cost one timer; each slot launches once with zero lateness", async () => {
    h = await Harness.create();
    for (let i = 0; i < 1000; i++) await h.upsert({ name: `j${i}`, schedule: "0 0 * * * *" });
    await h.scheduler.start();
    await settle();
    // The scheduler's single timer, plus nothing per job.
    expect(h.clock.pendingTimers).toBe(1);
    expect(h.scheduler.queueSize).toBe(1001); // 1000 job slots + the lease sweep
    h.exec.autoFinish = true;
    await h.advance(3_600_000, 60_000);
    expect(h.exec.starts.length).toBe(1000);
    expect(new Set(h.exec.starts.map((s) => `${s.job}/${s.id}`)).size).toBe(1000);
    expect(Math.max(...h.lateness)).toBe(0);
    expect(h.executions("j7")[0]).toMatchObject({ id: `${t0 + 3_600_000}-1`, status: "success" });
  });

  test("thousands of due slots are handled in turns of at most 200, yielding between them", async () => {
    h = await Harness.create();
    for (let i = 0; i < 1000; i++) await h.upsert({ name: `j${i}`, schedule: "0 0 * * * *" });
    await h.scheduler.start();
    await settle();
    // Count the fires proposed inside each timer callback (one event-loop turn of the scheduler).
    let inTurn = 0;
    const turns: number[] = [];
    const propose = h.log.propose.bind(h.log);
    h.log.propose = (cmd) => {
      if (cmd.type === "fire") inTurn++;
      return propose(cmd);
    };
    const setTimer = h.clock.setTimer.bind(h.clock);
    h.clock.setTimer = (at, fn) =>
      setTimer(at, () => {
        inTurn = 0;
        fn();
        if (inTurn > 0) turns.push(inTurn);
      });
    h.exec.autoFinish = true;
    await h.advance(3_600_000, 60_000);
    expect(h.exec.starts.length).toBe(1000);
    expect(turns.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...turns)).toBeLessThanOrEqual(200);
  });

  test("the state machine refuses a second fire of the same slot", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    await h.scheduler.start();
    h.exec.autoFinish = true;
    await h.advance(10_000);
    const slot = t0 + 10_000;
    expect(h.executions("a").map((e) => e.id)).toEqual([`${slot}-1`]);
    const again = h.runner.newExecution(h.job("a"), slot, 1);
    await expect(h.log.propose({ type: "fire", job: "a", slot, next: null, executions: [again] }))
      .rejects.toThrow(`slot ${slot} of job "a" already fired`);
  });

  test("disabled, not-yet-started and expired jobs do not fire", async () => {
    h = await Harness.create();
    await h.upsert({ name: "off", schedule: "@every 10s", disabled: true });
    await h.upsert({
      name: "later",
      schedule: "@every 10s",
      starts_at: new Date(t0 + 60_000).toISOString(),
    });
    await h.upsert({
      name: "gone",
      schedule: "@every 10s",
      expires_at: new Date(t0 + 25_000).toISOString(),
    });
    h.exec.autoFinish = true;
    await h.scheduler.start();
    await h.advance(59_000, 1_000);
    expect(h.executions("off")).toEqual([]);
    expect(h.executions("later")).toEqual([]);
    expect(h.executions("gone").map((e) => e.group)).toEqual([t0 + 10_000, t0 + 20_000]);
    await h.advance(11_000, 1_000);
    expect(h.executions("later").map((e) => e.group)).toEqual([t0 + 60_000, t0 + 70_000]);
    expect(h.job("gone").next).toBeNull();
  });
});

describe("handing leadership on", () => {
  test("quiesce stops new fires and resolves once the slot already fired has launched", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    await h.scheduler.start();
    // Just inside the fire lead of the first slot: its fire is committed, its launch waits.
    await h.advance(10_000 - limits.fireLeadMs + 100, 100);
    expect(h.job("a").fired_through).toBe(t0 + 10_000);
    expect(h.exec.starts).toEqual([]);
    let quiet = false;
    void h.scheduler.quiesce(2 * limits.fireLeadMs).then(() => void (quiet = true));
    await settle();
    expect(quiet).toBe(false);
    await h.advance(limits.fireLeadMs, 50);
    expect(h.exec.starts.map((x) => x.at)).toEqual([t0 + 10_000]);
    expect(quiet).toBe(true);
    // No later slot fires: the next leader takes them from fired_through.
    await h.advance(30_000, 1_000);
    expect(h.exec.starts.length).toBe(1);
    expect(h.job("a").fired_through).toBe(t0 + 10_000);
  });

  test("after a hand-off that failed, resume schedules again and catches up what it held back", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    await h.scheduler.start();
    h.exec.autoFinish = true;
    await h.scheduler.quiesce(2 * limits.fireLeadMs);
    await h.advance(25_000, 1_000);
    expect(h.exec.starts).toEqual([]);
    h.scheduler.resume();
    await h.advance(20_000, 1_000);
    // The held-back slots went through the misfire policy (run_once), then it fires on time.
    const at = h.exec.starts.map((x) => x.at);
    expect(at.length).toBe(3);
    expect(at[0]).toBeGreaterThanOrEqual(t0 + 25_000);
    expect(at.slice(1)).toEqual([t0 + 30_000, t0 + 40_000]);
    expect(statuses("a")).toContain("missed");
  });

  test("a slot fired by a leader that crashed before launching it follows its retries and misfire policy", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s", retries: 1 });
    await h.upsert({ name: "s", schedule: "@every 10s", retries: 1, misfire_policy: "skip" });
    // No retries: it may have started before its node died, so it is never run a second time.
    await h.upsert({ name: "n", schedule: "@every 10s" });
    await h.scheduler.start();
    await h.advance(10_000 - limits.fireLeadMs + 100, 100);
    expect(h.job("a").fired_through).toBe(t0 + 10_000);
    // The leader dies with both launches still waiting in its heap; a new leader takes over.
    h.scheduler.stop();
    h.scheduler = h.newScheduler();
    await h.scheduler.start();
    await h.advance(limits.leaseMs + limits.leaseSweepMs, 500);
    const first = h.executions("a").find((x) => x.group === t0 + 10_000 && x.attempt === 1);
    expect(first?.status).toBe("lost");
    expect(first?.reason).toContain("never launched");
    expect(h.exec.starts.map((x) => x.id)).toContain(`${t0 + 10_000}-2`);
    // skip: recorded, not run again.
    const skipped = h.executions("s").find((x) => x.group === t0 + 10_000);
    expect(skipped?.status).toBe("lost");
    expect(skipped?.reason).toContain("not run again");
    expect(h.exec.starts.map((x) => `${x.job}/${x.id}`)).not.toContain(`s/${t0 + 10_000}-2`);
    const once = h.executions("n").find((x) => x.group === t0 + 10_000);
    expect(once?.status).toBe("lost");
    expect(once?.reason).toContain("no retries left");
    expect(h.exec.starts.map((x) => `${x.job}/${x.id}`)).not.toContain(`n/${t0 + 10_000}-2`);
  });

  test("quiesce gives up after its bound", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    await h.scheduler.start();
    const propose = h.log.propose.bind(h.log);
    // A fire that never commits keeps the job busy.
    h.log.propose = (cmd) => cmd.type === "fire" ? new Promise(() => {}) : propose(cmd);
    await h.advance(10_000 - limits.fireLeadMs + 100, 100);
    let quiet = false;
    void h.scheduler.quiesce(1_000).then(() => void (quiet = true));
    await h.advance(900, 100);
    expect(quiet).toBe(false);
    await h.advance(200, 100);
    expect(quiet).toBe(true);
  });
});

describe("missed-run policy after downtime", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** Defines a job, "stops the node" for `downMs`, restarts a scheduler on the same state.db. */
  async function downtime(job: Record<string, unknown>, downMs: number): Promise<Harness> {
    const dir = mkdtempSync(join(tmpdir(), "tock-misfire-"));
    dirs.push(dir);
    const first = await Harness.create(t0, join(dir, "state.db"));
    await first.upsert(job);
    first.store.close();
    const second = await Harness.create(t0 + downMs, join(dir, "state.db"));
    second.exec.autoFinish = true;
    await second.scheduler.start();
    await settle();
    return second;
  }

  test("run_once (default) runs the latest missed slot and records the rest as missed", async () => {
    h = await downtime({ name: "a", schedule: "0 * * * * *" }, 5 * 60_000 + 30_000);
    const ex = h.executions("a");
    expect(ex.map((e) => e.status)).toEqual(["missed", "missed", "missed", "missed", "success"]);
    expect(ex[4]?.group).toBe(t0 + 5 * 60_000);
    expect(ex[0]?.reason).toContain("a later missed slot ran instead");
    expect(h.counts.missed).toBe(4);
    expect(h.job("a").next).toBe(t0 + 6 * 60_000);
  });

  test("skip runs nothing and records every missed slot", async () => {
    h = await downtime(
      { name: "a", schedule: "0 * * * * *", misfire_policy: "skip" },
      3 * 60_000 + 1,
    );
    expect(statuses("a")).toEqual(["missed", "missed", "missed"]);
    expect(h.exec.starts).toEqual([]);
  });

  test("run_all runs every slot within the starting deadline; older ones are missed", async () => {
    h = await downtime(
      { name: "a", schedule: "0 * * * * *", misfire_policy: "run_all", starting_deadline: "2m30s" },
      5 * 60_000 + 1,
    );
    // Slots at 1..5 min; the deadline starts at 2m30s: 3, 4 and 5 run late, 1 and 2 are missed.
    expect(statuses("a")).toEqual(["missed", "missed", "success", "success", "success"]);
    expect(h.executions("a")[0]?.reason).toContain("older than the starting deadline");
  });

  test("a slot older than the starting deadline is never run, whatever the policy", async () => {
    h = await downtime(
      { name: "a", schedule: "@hourly", starting_deadline: "10m" },
      3_600_000 + 11 * 60_000,
    );
    expect(statuses("a")).toEqual(["missed"]);
    expect(h.exec.starts).toEqual([]);
  });

  test("a long outage of a fast job records a bounded number of missed slots", async () => {
    h = await downtime({ name: "a", schedule: "@every 1s", misfire_policy: "skip" }, 86_400_000);
    const ex = h.executions("a");
    expect(ex.length).toBe(100);
    expect(ex[0]?.reason).toContain("earlier slots were missed too");
    expect(h.job("a").next).toBe(t0 + 86_401_000);
  });
});

describe("overlap", () => {
  test("forbid records the next slot as missed while a run is still going", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s", concurrency: "forbid" });
    await h.scheduler.start();
    await h.advance(20_000);
    expect(statuses("a")).toEqual(["running", "missed"]);
    expect(h.executions("a")[1]?.reason).toContain("still running (concurrency forbid)");
    h.exec.finish("a", `${t0 + 10_000}-1`, true);
    await h.advance(10_000);
    expect(statuses("a")).toEqual(["success", "missed", "running"]);
  });

  test("replace kills the running execution, then starts the new one", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s", concurrency: "replace" });
    await h.scheduler.start();
    await h.advance(20_000);
    const [first, second] = h.executions("a");
    expect(first).toMatchObject({
      status: "failed",
      reason: "killed: replaced by a newer run (concurrency replace)",
    });
    expect(second?.status).toBe("running");
  });

  test("allow lets runs overlap", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    await h.scheduler.start();
    await h.advance(30_000);
    expect(statuses("a")).toEqual(["running", "running", "running"]);
  });

  test("a manual run obeys forbid unless forced", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually", concurrency: "forbid" });
    await h.scheduler.start();
    const first = await h.scheduler.runNow("a", false);
    await settle();
    await expect(h.scheduler.runNow("a", false)).rejects.toThrow(
      "concurrency is forbid; use ?force=true",
    );
    const forced = await h.scheduler.runNow("a", true);
    expect(forced.id).not.toBe(first.id);
    expect(statuses("a")).toEqual(["running", "running"]);
  });
});

describe("leases", () => {
  test("a running execution whose lease lapses becomes lost and frees a forbid job", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 1m", concurrency: "forbid" });
    // A run held by another node that stops renewing its lease.
    const orphan = { ...h.runner.newExecution(h.job("a"), t0 - 5_000, 1), node_name: "n2" };
    await h.log.propose({ type: "execution.start", execution: orphan });
    await h.scheduler.start();
    await h.advance(20_000, 1_000);
    expect(h.executions("a")[0]).toMatchObject({ status: "lost", success: false });
    expect(h.executions("a")[0]?.reason).toContain("lease lapsed");
    expect(h.counts.lost).toBe(1);
    h.exec.autoFinish = true;
    await h.advance(40_000, 1_000);
    expect(statuses("a")).toEqual(["lost", "success"]);
  });

  test("a run this node still holds is never swept as lost, even when its renewals stall", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually" });
    await h.scheduler.start();
    // An overloaded node: its renewals do not get through (they wait behind the loop), yet the
    // runner holds the run the whole time.
    const stalled: Array<() => void> = [];
    const propose = h.log.propose.bind(h.log);
    h.log.propose = (cmd) =>
      cmd.type === "execution.renew"
        ? new Promise((resolve) => stalled.push(() => void propose(cmd).then(resolve)))
        : propose(cmd);
    const e = await h.scheduler.runNow("a", false);
    await h.advance(60_000, 1_000);
    expect(stalled.length).toBeGreaterThan(0);
    expect(h.executions("a")[0]?.lease_until).toBeLessThan(h.clock.nowMs());
    expect(statuses("a")).toEqual(["running"]);
    expect(h.counts.lost).toBe(0);
    h.exec.finish("a", e.id, true);
    await settle();
    expect(statuses("a")).toEqual(["success"]);
  });

  test("a renewal that times out or finds no leader keeps the run; a refused one kills it", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually" });
    await h.scheduler.start();
    const propose = h.log.propose.bind(h.log);
    let failWith: TockError | undefined;
    let failed = 0;
    h.log.propose = (cmd) => {
      if (cmd.type === "execution.renew" && failWith !== undefined) {
        failed++;
        return Promise.reject(failWith);
      }
      return propose(cmd);
    };
    const e = await h.scheduler.runNow("a", false);
    for (const kind of ["timeout", "overloaded", "unavailable", "not_leader"] as const) {
      failWith = new TockError(kind, `renewal failed: ${kind}`);
      const before = failed;
      await h.advance(limits.leaseRenewMs * 2, 1_000);
      expect(failed).toBeGreaterThan(before);
    }
    failWith = undefined;
    await h.advance(limits.leaseRenewMs * 2, 1_000);
    expect(h.exec.running()).toEqual([`a/${e.id}`]);
    expect(statuses("a")).toEqual(["running"]);
    expect(h.executions("a")[0]?.lease_until).toBeGreaterThan(h.clock.nowMs());
    failWith = new TockError("conflict", "execution is lost, its lease cannot be renewed");
    await h.advance(limits.leaseRenewMs * 2, 1_000);
    expect(h.exec.running()).toEqual([]);
    expect(h.executions("a")[0]?.reason).toContain("its lease was lost");
  });

  test("a renewal applied while the sweep records another run lost keeps its run", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually" });
    const orphan = (group: number) => ({
      ...h.runner.newExecution(h.job("a"), group, 1),
      node_name: "n2",
    });
    const [first, second] = [orphan(t0 - 5_000), orphan(t0 - 4_000)];
    for (const e of [first, second]) await h.log.propose({ type: "execution.start", execution: e });
    await h.scheduler.start();
    const propose = h.log.propose.bind(h.log);
    let renewed = false;
    h.log.propose = async (cmd) => {
      const r = await propose(cmd);
      if (cmd.type === "execution.finish" && !renewed) {
        // n2 comes back while the sweep's first write is in flight and renews the other run.
        renewed = true;
        const other = cmd.execution.id === first.id ? second : first;
        await propose({
          type: "execution.renew",
          job: "a",
          id: other.id,
          leaseUntil: h.clock.nowMs() + limits.leaseMs,
        });
      }
      return r;
    };
    await h.advance(16_000, 1_000);
    expect(renewed).toBe(true);
    expect([...statuses("a")].sort()).toEqual(["lost", "running"]);
    expect(h.counts.lost).toBe(1);
  });

  test("a sweep that finds itself no longer leader stops instead of failing every write", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually" });
    for (const g of [t0 - 5_000, t0 - 4_000, t0 - 3_000]) {
      const e = { ...h.runner.newExecution(h.job("a"), g, 1), node_name: "n2" };
      await h.log.propose({ type: "execution.start", execution: e });
    }
    await h.scheduler.start();
    const propose = h.log.propose.bind(h.log);
    let refused = 0;
    h.log.propose = (cmd) => {
      if (cmd.type !== "execution.finish") return propose(cmd);
      refused++;
      return Promise.reject(new TockError("not_leader", "no longer the leader of term 1"));
    };
    await h.advance(limits.leaseMs + limits.leaseSweepMs / 2, 500);
    h.scheduler.stop();
    expect(refused).toBeGreaterThan(0);
    // All three leases lapsed at t0 + leaseMs, so exactly one sweep round saw them: one refused
    // write, not one per lapsed run.
    expect(refused).toBe(1);
    expect(statuses("a")).toEqual(["running", "running", "running"]);
  });

  test("a live run keeps its lease renewed however long it runs", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually" });
    await h.scheduler.start();
    const e = await h.scheduler.runNow("a", false);
    await h.advance(120_000, 1_000);
    expect(statuses("a")).toEqual(["running"]);
    expect(h.executions("a")[0]?.lease_until).toBeGreaterThan(h.clock.nowMs());
    h.exec.finish("a", e.id, true);
    await settle();
    expect(statuses("a")).toEqual(["success"]);
  });
});

describe("a fire that keeps failing", () => {
  test("backs off, logs once per interval with a count, and runs per its policy once it can", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    await h.scheduler.start();
    let failing = true;
    let fires = 0;
    const propose = h.log.propose.bind(h.log);
    h.log.propose = (cmd) => {
      if (cmd.type !== "fire") return propose(cmd);
      fires++;
      return failing
        ? Promise.reject(new TockError("storage_full", "disk full (test)"))
        : propose(cmd);
    };
    const logged: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => void logged.push(a.join(" "));
    try {
      await h.advance(50_000, 100);
    } finally {
      console.error = error;
    }
    // 1 s, 2 s, 4 s, 8 s, 16 s ... between tries: a handful in 50 s, not one per turn.
    expect(fires).toBeGreaterThanOrEqual(3);
    expect(fires).toBeLessThanOrEqual(7);
    expect(h.counts.fireFailed).toBe(fires);
    const lines = logged.filter((l) => l.includes(`firing "a" failed`));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("disk full (test)");
    // Space is back: the overdue slots go through run_once (the latest runs, the rest missed).
    failing = false;
    h.exec.autoFinish = true;
    await h.advance(70_000, 1_000);
    const st = h.executions("a").map((e) => e.status);
    expect(st).toContain("missed");
    expect(st.filter((x) => x === "success").length).toBeGreaterThanOrEqual(1);
    expect(h.job("a").fired_through).toBeGreaterThan(t0 + 100_000);
  });
});

describe("retries, chains and ephemeral jobs", () => {
  test("retries back off exponentially and success after a retry counts as success", async () => {
    h = await Harness.create();
    await h.upsert({
      name: "a",
      schedule: "@manually",
      retries: 3,
      retry_delay: "1s",
      retry_delay_max: "3s",
    });
    await h.scheduler.start();
    const e = await h.scheduler.runNow("a", false);
    await settle();
    h.exec.finish("a", e.id, false);
    await settle();
    await h.advance(999, 1);
    expect(h.exec.starts.length).toBe(1);
    await h.advance(1, 1);
    expect(h.exec.starts.map((s) => s.id)).toEqual([`${e.group}-1`, `${e.group}-2`]);
    h.exec.finish("a", `${e.group}-2`, false);
    await settle();
    await h.advance(1_999, 1);
    expect(h.exec.starts.length).toBe(2);
    await h.advance(1, 1);
    expect(h.exec.starts.length).toBe(3);
    h.exec.finish("a", `${e.group}-3`, true);
    await settle();
    expect(statuses("a")).toEqual(["failed", "failed", "success"]);
    expect(h.job("a")).toMatchObject({ status: "success", success_count: 1, error_count: 2 });
  });

  test("children run after a parent's success (also after a retry), not after a failure", async () => {
    h = await Harness.create();
    await h.upsert({ name: "p", schedule: "@manually", retries: 1, retry_delay: "1s" });
    await h.upsert({ name: "c", parent_job: "p", schedule: "" });
    await h.scheduler.start();
    const e = await h.scheduler.runNow("p", false);
    await settle();
    h.exec.finish("p", e.id, false);
    await settle();
    expect(h.executions("c")).toEqual([]);
    await h.advance(1_000, 100);
    h.exec.finish("p", `${e.group}-2`, true);
    await settle();
    expect(h.executions("c").map((x) => [x.id, x.status])).toEqual([[`${e.group}-1`, "running"]]);
  });

  test("a run that ends on another server's runner gets its retry and children from the leader", async () => {
    h = await Harness.create();
    await h.upsert({ name: "p", schedule: "@manually", retries: 1, retry_delay: "1s" });
    await h.upsert({ name: "c", parent_job: "p", schedule: "" });
    await h.scheduler.start();
    // A manual run on a follower: its own runner records and runs it; the leader never did.
    const follower = h.newRunner("n2");
    const e = await follower.start(h.job("p"), h.clock.nowMs(), 1);
    await settle();
    h.exec.finish("p", e.id, false);
    await settle();
    await h.advance(1_000, 100);
    expect(h.exec.starts.map((x) => x.id)).toEqual([e.id, `${e.group}-2`]);
    h.exec.finish("p", `${e.group}-2`, true);
    await settle();
    expect(h.executions("c").map((x) => [x.id, x.status])).toEqual([[`${e.group}-1`, "running"]]);
  });

  test("a new leader's scheduler runs the retry a failed run was still owed", async () => {
    h = await Harness.create();
    await h.upsert({ name: "a", schedule: "@manually", retries: 2, retry_delay: "10s" });
    await h.scheduler.start();
    const e = await h.scheduler.runNow("a", false);
    await settle();
    h.exec.finish("a", e.id, false);
    await settle();
    // Leadership moves before the retry is due: the old scheduler's heap goes with it.
    h.scheduler.stop();
    await h.advance(3_000, 1_000);
    h.scheduler = h.newScheduler();
    await h.scheduler.start();
    await h.advance(6_999, 1_000);
    expect(h.exec.starts.length).toBe(1);
    await h.advance(1, 1);
    expect(h.exec.starts.map((x) => x.id)).toEqual([e.id, `${e.group}-2`]);
    h.exec.finish("a", `${e.group}-2`, false);
    await settle();
    // Its last attempt too, and no more once the retries are used up, after another handover.
    h.scheduler.stop();
    h.scheduler = h.newScheduler();
    await h.scheduler.start();
    await h.advance(20_000, 1_000);
    expect(h.exec.starts.map((x) => x.id)).toEqual([e.id, `${e.group}-2`, `${e.group}-3`]);
    h.exec.finish("a", `${e.group}-3`, false);
    await settle();
    h.scheduler.stop();
    h.scheduler = h.newScheduler();
    await h.scheduler.start();
    await h.advance(60_000, 1_000);
    expect(statuses("a")).toEqual(["failed", "failed", "failed"]);
  });

  test("an ephemeral job is deleted after its successful run", async () => {
    h = await Harness.create();
    await h.upsert({ name: "once", schedule: "@every 10s", ephemeral: true });
    await h.scheduler.start();
    h.exec.autoFinish = true;
    await h.advance(10_000);
    expect(h.store.peekJob("once")).toBeUndefined();
    await h.advance(30_000, 1_000);
    expect(h.exec.starts.length).toBe(1);
  });
});
