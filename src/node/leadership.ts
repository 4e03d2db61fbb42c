/**
 * Leadership: the scheduler runs only on the leader, one instance per term. On election the
 * leader first waits for its barrier (its own no-op entry applied, so its state holds every
 * committed command), then starts a scheduler for that term. Every side effect that scheduler
 * takes goes through a fence that checks, before and after each await, that this server is
 * still leader of the same term and the scheduler is still the current one; a deposed
 * scheduler's later steps throw `not_leader` instead of acting. On loss it stops at once.
 */
import { type Clock, errorMessage, TockError } from "../lib/mod.ts";
import type { RunnerPort, Scheduler, SchedulerDeps } from "../scheduler/mod.ts";
import type { Command, Execution, Job } from "../state/mod.ts";
import { executionId } from "../state/mod.ts";
import type { Applied } from "./door.ts";

/** Who leads, as the Raft shell sees it right now (read synchronously, never cached). */
export interface LeaderView {
  isLeader(): boolean;
  term(): number;
}

/** A runner as the node has it: the scheduler's port plus what fencing needs. */
export interface FencedRunnerBase extends RunnerPort {
  exists?(job: string, id: string): boolean;
}

/** Appends `cmd` as the leader of `term`, or refuses with not_leader: never forwards it. */
export type LeaderPropose = (cmd: Command, term: number) => Promise<Applied>;

export class Fenced extends TockError {
  constructor(term: number) {
    super("not_leader", `no longer the leader of term ${term}: step not taken`);
  }
}

/** The fence of one term: `check()` throws once this server stopped leading that term. */
export class Fence {
  readonly term: number;
  readonly #view: LeaderView;
  #revoked = false;

  constructor(view: LeaderView, term: number) {
    this.#view = view;
    this.term = term;
  }

  get valid(): boolean {
    return !this.#revoked && this.#view.isLeader() && this.#view.term() === this.term;
  }

  check(): void {
    if (!this.valid) throw new Fenced(this.term);
  }

  revoke(): void {
    this.#revoked = true;
  }

  /**
   * propose() fenced on both sides of its await. `propose` gets this fence's term: it must
   * append the command as leader of that term or refuse, never forward it (Door.proposeAsLeader).
   */
  propose(
    propose: LeaderPropose,
  ): (cmd: Command) => Promise<Applied> {
    return async (cmd) => {
      this.check();
      const r = await propose(cmd, this.term);
      this.check();
      return r;
    };
  }

  /** The runner port with every launch fenced (start = fenced record + fenced launch). */
  runner(
    r: RunnerPort,
    exists: (job: string, id: string) => boolean,
    propose: LeaderPropose,
  ): RunnerPort {
    const fencedPropose = this.propose(propose);
    return {
      newExecution: (job, group, attempt) => r.newExecution(job, group, attempt),
      launch: (job: Job, e: Execution) => {
        this.check();
        r.launch(job, e);
      },
      start: async (job: Job, groupMs: number, attempt = 1) => {
        let group = groupMs;
        while (exists(job.name, executionId(group, attempt))) group++;
        const execution = r.newExecution(job, group, attempt);
        await fencedPropose({ type: "execution.start", execution });
        r.launch(job, execution);
        return execution;
      },
      kill: (job, id, reason) => r.kill(job, id, reason),
      finished: (job, id) => r.finished(job, id),
      isRunning: (job, id) => r.isRunning(job, id),
    };
  }
}

export interface LeadershipDeps {
  view: LeaderView;
  clock: Clock;
  /** Builds the scheduler of a term from fenced ports. */
  makeScheduler(ports: Pick<SchedulerDeps, "propose" | "runner">, fence: Fence): Scheduler;
  /** The leader-only write path (never forwarded): Door.proposeAsLeader. */
  propose: LeaderPropose;
  runner: RunnerPort;
  exists(job: string, id: string): boolean;
  /** Called with the scheduler once it runs (after its catch-up), or undefined once stopped. */
  onChange?(s: Scheduler | undefined, term: number): void;
}

/**
 * Drives the per-term scheduler from Raft's role changes and applied index. The node calls
 * roleChanged() on every role event and applied() after every applied batch.
 */
export class Leadership {
  readonly #d: LeadershipDeps;
  #fence: Fence | undefined;
  #scheduler: Scheduler | undefined;
  /** Set while leading and waiting for the barrier: the index of this term's no-op. */
  #barrier: { term: number; index: number } | undefined;
  #stopped = false;

  constructor(d: LeadershipDeps) {
    this.#d = d;
  }

  /** The running scheduler (leader of the current term, barrier passed), if any. */
  get scheduler(): Scheduler | undefined {
    return this.#fence?.valid ? this.#scheduler : undefined;
  }

  get term(): number | undefined {
    return this.#fence?.valid ? this.#fence.term : undefined;
  }

  /** Role or term changed. `noopIndex` is the leader's last index at election (its no-op). */
  roleChanged(noopIndex: number, appliedIndex: number): void {
    const v = this.#d.view;
    if (this.#fence !== undefined && !this.#fence.valid) this.#stop();
    if (this.#stopped || !v.isLeader()) {
      this.#barrier = undefined;
      return;
    }
    if (this.#fence?.term === v.term()) return;
    this.#barrier = { term: v.term(), index: noopIndex };
    this.applied(appliedIndex);
  }

  /** Starts the term's scheduler once its barrier is applied. */
  applied(appliedIndex: number): void {
    const b = this.#barrier;
    if (b === undefined || appliedIndex < b.index) return;
    this.#barrier = undefined;
    const v = this.#d.view;
    if (!v.isLeader() || v.term() !== b.term || this.#stopped) return;
    const fence = new Fence(v, b.term);
    this.#fence = fence;
    const propose = fence.propose(this.#d.propose);
    const runner = fence.runner(this.#d.runner, this.#d.exists, this.#d.propose);
    const s = this.#d.makeScheduler({ propose, runner }, fence);
    this.#scheduler = s;
    s.start().then(
      () => {
        if (fence.valid && this.#scheduler === s) this.#d.onChange?.(s, fence.term);
      },
      (e) => {
        if (!(e instanceof Fenced)) {
          console.error(
            `tock: scheduler of term ${fence.term} failed to start: ${errorMessage(e)}`,
          );
        }
      },
    );
  }

  #stop(): void {
    const s = this.#scheduler;
    const term = this.#fence?.term ?? 0;
    this.#fence?.revoke();
    this.#fence = undefined;
    this.#scheduler = undefined;
    if (s !== undefined) {
      s.stop();
      this.#d.onChange?.(undefined, term);
    }
  }

  /** Stops for good (node shutdown); idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#barrier = undefined;
    this.#stop();
  }
}
