/**
 * A node's scheduling stack on a FakeClock: real SQLite state behind a one-member Raft group
 * (the production shell and door), Runner and Scheduler, with a controllable executor. Time
 * moves only by advance(); no sleeps.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RaftShell, SnapshotDir } from "../../src/consensus/mod.ts";
import { FakeClock } from "../../src/lib/mod.ts";
import {
  currentOf,
  Door,
  type ExecutorPort,
  OutputHub,
  type OutputPort,
  ReplicatedState,
  Runner,
} from "../../src/node/mod.ts";
import { loadRuntime } from "../../src/runtime/mod.ts";
import { nextRunOf, Scheduler } from "../../src/scheduler/mod.ts";
import { type Execution, type Job, parseJobBody, validateJob } from "../../src/state/mod.ts";
import { RaftLogStore, type SqlDb, SqliteStateStore } from "../../src/store/mod.ts";

type Result = Awaited<ReturnType<ExecutorPort["run"]>>;

/** An executor whose runs end when the test says so. */
export class FakeExecutor implements ExecutorPort {
  name = "shell";
  starts: Array<{ job: string; id: string; at: number }> = [];
  #pending = new Map<string, { resolve: (r: Result) => void; signal: AbortSignal }>();
  /** When set, runs end at once with this outcome. */
  autoFinish: boolean | undefined;

  constructor(private clock: FakeClock) {}

  validate(): string | undefined {
    return undefined;
  }

  run(req: Parameters<ExecutorPort["run"]>[0]): Promise<Result> {
    this.starts.push({ job: req.jobName, id: req.executionId, at: this.clock.nowMs() });
    if (this.autoFinish !== undefined) return Promise.resolve(outcome(this.autoFinish));
    return new Promise((resolve) => {
      const key = `${req.jobName}/${req.executionId}`;
      this.#pending.set(key, { resolve, signal: req.signal });
      req.signal.addEventListener("abort", () => {
        this.#pending.delete(key);
        resolve({
          success: false,
          exitCode: null,
          error: "aborted",
          outputBytes: 0,
          truncated: false,
        });
      });
    });
  }

  running(): string[] {
    return [...this.#pending.keys()];
  }

  finish(job: string, id: string, success: boolean): void {
    const key = `${job}/${id}`;
    const p = this.#pending.get(key);
    if (!p) throw new Error(`no running execution ${key}; running: ${this.running().join(", ")}`);
    this.#pending.delete(key);
    p.resolve(outcome(success));
  }
}

const outcome = (success: boolean): Result => ({
  success,
  exitCode: success ? 0 : 1,
  error: success ? "" : "exit status 1",
  outputBytes: 0,
  truncated: false,
});

function memoryOutput(): OutputPort {
  const m = new Map<string, string>();
  return {
    begin: (j, id) => void m.set(`${j}/${id}`, ""),
    append: (j, id, c) =>
      void m.set(`${j}/${id}`, (m.get(`${j}/${id}`) ?? "") + new TextDecoder().decode(c)),
    finish: () => {},
    read: (j, id) => m.get(`${j}/${id}`),
    deleteJob: () => {},
    prune: () => 0,
    rememberProcess: () => {},
    forgetProcesses: () => {},
  };
}

/** Lets promise chains (propose → launch → finish) run to completion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

export const t0 = Date.UTC(2030, 0, 1, 0, 0, 0);

export class Harness {
  readonly clock: FakeClock;
  readonly store: SqliteStateStore;
  readonly log: Door;
  readonly shell: RaftShell;
  readonly exec: FakeExecutor;
  readonly runner: Runner;
  scheduler: Scheduler;
  readonly counts = { launched: 0, missed: 0, lost: 0, fireFailed: 0 };
  readonly lateness: number[] = [];

  private constructor(store: SqliteStateStore, clock: FakeClock, raftDb: SqlDb) {
    this.clock = clock;
    this.store = store;
    const snapshots = new SnapshotDir(join(mkdtempSync(join(tmpdir(), "harness-")), "snapshots"));
    this.shell = new RaftShell({
      id: "n1",
      store: RaftLogStore.open(raftDb),
      transport: { send: () => {} },
      app: new ReplicatedState(store, snapshots),
      clock,
      tickMs: 100,
      electionTicks: 10,
      heartbeatTicks: 1,
      seed: 1,
      bootstrap: { voters: ["n1"], learners: [] },
      onEvent: (e) => {
        if (e.type === "role") this.log.leaderChanged();
      },
    });
    this.log = new Door(
      this.shell,
      clock,
      () => Promise.reject(new Error("no peers")),
      currentOf(store),
    );
    store.onAppliedBatch((items) => this.log.applied(items));
    this.shell.start();
    this.exec = new FakeExecutor(clock);
    this.runner = this.newRunner("n1");
    this.scheduler = this.newScheduler();
    // As the node does: every applied command reaches the current scheduler.
    store.onApplied((cmd, r) => {
      if (r.ok) this.scheduler.applied(cmd);
    });
  }

  /** A runner on the same state and executor: n1's own, or another server's (a follower's). */
  newRunner(nodeName: string): Runner {
    return new Runner({
      nodeName,
      clock: this.clock,
      proposer: this.log,
      executors: new Map([["shell", this.exec]]),
      output: memoryOutput(),
      hub: new OutputHub(),
      exists: (job, id) => this.store.getExecution(job, id) !== undefined,
    });
  }

  /** A scheduler over this node's state and runner (a leader's, as a new term builds it). */
  newScheduler(runner: Runner = this.runner): Scheduler {
    const store = this.store;
    return new Scheduler({
      clock: this.clock,
      propose: (cmd) => this.log.propose(cmd),
      getJob: (n) => store.peekJob(n),
      allJobs: () => store.jobsView(),
      running: (job) => store.runningExecutions(job),
      executionsOf: (job) => store.executionsOf(job),
      runner,
      metrics: {
        launched: (_j, l) => {
          this.counts.launched++;
          if (l !== null) this.lateness.push(l);
        },
        missed: (_j, n) => void (this.counts.missed += n),
        lost: () => void this.counts.lost++,
        fireFailed: () => void this.counts.fireFailed++,
      },
    });
  }

  static async create(startMs = t0, dbPath = ":memory:"): Promise<Harness> {
    const rt = await loadRuntime();
    return new Harness(
      new SqliteStateStore(rt.openDb(dbPath)),
      new FakeClock(startMs),
      rt.openDb(":memory:") as unknown as SqlDb,
    );
  }

  /** Creates or replaces a job as the API does (validate, compute next, propose). */
  async upsert(body: Record<string, unknown>): Promise<Job> {
    const job = parseJobBody({ executor: "shell", executor_config: { command: "x" }, ...body });
    validateJob(job, () => undefined);
    job.next = nextRunOf(job, this.clock.nowMs());
    return (await this.log.propose({ type: "job.upsert", job })).job as Job;
  }

  async advance(ms: number, stepMs = 100): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - done));
      await settle();
    }
  }

  executions(job: string): Execution[] {
    return this.store.executionsOf(job);
  }

  job(name: string): Job {
    const j = this.store.peekJob(name);
    if (!j) throw new Error(`no job ${name}`);
    return j;
  }
}
