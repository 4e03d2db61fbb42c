// Proves leadership fencing on a fake clock: a scheduler starts only after its term's barrier
// (the leader's no-op) is applied; once deposed it stops at once, idempotently; and a deposed
// scheduler whose fire proposal was in flight does not launch when that proposal returns, nor
// take any later step. A new term gets a new scheduler; the old one stays fenced.
import { describe, expect, test } from "bun:test";
import { Fence, Fenced, Leadership, type LeaderView } from "../src/node/mod.ts";
import { Scheduler } from "../src/scheduler/mod.ts";
import type { Command } from "../src/state/mod.ts";
import { Harness, settle } from "./support/scheduler_harness.ts";

class View implements LeaderView {
  leader = true;
  t = 1;
  isLeader(): boolean {
    return this.leader;
  }
  term(): number {
    return this.t;
  }
}

describe("fence", () => {
  test("a proposal that returns after the term ended throws instead of letting the caller act", async () => {
    const view = new View();
    const fence = new Fence(view, 1);
    let release: () => void = () => {};
    const inner = () => new Promise<object>((r) => (release = () => r({})));
    const p = fence.propose(inner)({ type: "job.delete", name: "x" });
    view.t = 2; // a new election happened while we awaited
    release();
    await expect(p).rejects.toBeInstanceOf(Fenced);
    expect(() => fence.check()).toThrow("no longer the leader of term 1");
  });

  test("a revoked fence refuses even while Raft still says leader of that term", () => {
    const view = new View();
    const fence = new Fence(view, 1);
    fence.revoke();
    expect(fence.valid).toBe(false);
  });
});

describe("leadership", () => {
  async function setup() {
    const h = await Harness.create();
    h.scheduler.stop(); // the harness's own scheduler stays out of it: only the term's runs
    const view = new View();
    const made: Scheduler[] = [];
    const stopped: number[] = [];
    let gate: Promise<void> | undefined;
    const launches: string[] = [];
    const lead = new Leadership({
      view,
      clock: h.clock,
      propose: async (cmd: Command) => {
        if (gate !== undefined) await gate;
        return h.log.propose(cmd);
      },
      runner: {
        newExecution: (j, g, a) => h.runner.newExecution(j, g, a),
        launch: (j, e) => {
          launches.push(e.id);
          h.runner.launch(j, e);
        },
        start: (j, g, a) => h.runner.start(j, g, a),
        kill: (j, id, r) => h.runner.kill(j, id, r),
        finished: (j, id) => h.runner.finished(j, id),
        isRunning: (j, id) => h.runner.isRunning(j, id),
      },
      exists: (job, id) => h.store.getExecution(job, id) !== undefined,
      makeScheduler: (ports) => {
        const s = new Scheduler({
          clock: h.clock,
          propose: ports.propose,
          getJob: (n) => h.store.peekJob(n),
          allJobs: () => h.store.jobsView(),
          running: (j) => h.store.runningExecutions(j),
          executionsOf: (j) => h.store.executionsOf(j),
          runner: ports.runner,
          metrics: { launched: () => {}, missed: () => {}, lost: () => {}, fireFailed: () => {} },
        });
        made.push(s);
        return s;
      },
      onChange: (s, term) => void (s === undefined && stopped.push(term)),
    });
    return {
      h,
      view,
      lead,
      made,
      stopped,
      launches,
      hold: () => {
        let open: () => void = () => {};
        gate = new Promise((r) => (open = r));
        return () => {
          gate = undefined;
          open();
        };
      },
    };
  }

  test("the scheduler of a term starts only once the term's no-op is applied", async () => {
    const { lead, made } = await setup();
    lead.roleChanged(7, 6);
    expect(made.length).toBe(0);
    lead.applied(7);
    expect(made.length).toBe(1);
    expect(lead.term).toBe(1);
  });

  test("on loss the scheduler stops at once, and a second loss signal changes nothing", async () => {
    const { lead, made, view, stopped } = await setup();
    lead.roleChanged(1, 1);
    await settle();
    expect(lead.scheduler).toBe(made[0]);
    view.leader = false;
    lead.roleChanged(0, 1);
    lead.roleChanged(0, 1);
    expect(lead.scheduler).toBeUndefined();
    expect(stopped).toEqual([1]);
    // Re-elected in a later term: a fresh scheduler; the first stays fenced.
    view.leader = true;
    view.t = 3;
    lead.roleChanged(9, 9);
    expect(made.length).toBe(2);
    expect(lead.term).toBe(3);
  });

  test("a deposed scheduler whose fire was in flight does not launch it", async () => {
    const { h, lead, view, launches, hold } = await setup();
    await h.upsert({ name: "a", schedule: "@every 10s" });
    h.exec.autoFinish = true;
    lead.roleChanged(1, 1);
    await settle();
    const release = hold();
    await h.advance(10_000); // the slot is due: its fire proposal waits at the gate
    view.leader = false;
    view.t = 2;
    lead.roleChanged(0, h.store.appliedIndex);
    release();
    await h.advance(30_000);
    expect(launches).toEqual([]);
    expect(h.exec.starts).toEqual([]);
  });
});
