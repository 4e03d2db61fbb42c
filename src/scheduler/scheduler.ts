/**
 * The leader-side scheduler: one timer for the whole node, driven by a min-heap of due entries
 * (each job's next slot, retry attempts, the lease sweep). A due slot becomes a `fire` command
 * through propose(); the state machine refuses a second fire of the same (job, slot), and only
 * an applied fire launches. Missed slots follow the job's misfire policy and are recorded.
 */
import {
  type Clock,
  conflict,
  errorMessage,
  isTockError,
  limits,
  notFound,
  type TimerHandle,
} from "../lib/mod.ts";
import { type Command, type Execution, type Job, lostExecution } from "../state/mod.ts";
import { KeyedHeap } from "./heap.ts";
import { type MisfirePolicy, type MissedReason, planCatchUp } from "../schedule/mod.ts";
import { nextRunOf, retryDelayMs, scheduleOf, startingDeadlineMs } from "./slots.ts";

/** A launched execution and its lateness (for metrics). */
export interface SchedulerMetrics {
  launched(job: string, latenessMs: number | null): void;
  missed(job: string, count: number): void;
  lost(job: string): void;
  /** A job's fire (or catch-up) could not be recorded; it is tried again after a backoff. */
  fireFailed(job: string): void;
}

/** The runner operations the scheduler needs (src/node's Runner implements them). */
export interface RunnerPort {
  newExecution(job: Job, group: number, attempt: number): Execution;
  launch(job: Job, e: Execution): void;
  start(job: Job, groupMs: number, attempt?: number): Promise<Execution>;
  kill(job: string, id: string, reason: string): boolean;
  finished(job: string, id: string): Promise<void>;
  /** Is this execution running on this node's runner right now? */
  isRunning(job: string, id: string): boolean;
}

export interface SchedulerDeps {
  clock: Clock;
  propose(cmd: Command): Promise<{ job?: Job; execution?: Execution }>;
  getJob(name: string): Job | undefined;
  allJobs(): Iterable<Job>;
  /** Running executions of one job, or of all jobs when `job` is undefined. */
  running(job?: string): Execution[];
  /** Every recorded execution of a job, oldest group first (to find retries still owed). */
  executionsOf(job: string): Execution[];
  runner: RunnerPort;
  metrics: SchedulerMetrics;
}

type Entry =
  | { key: string; dueMs: number; kind: "slot"; job: string; slot: number }
  | { key: string; dueMs: number; kind: "retry"; job: string; group: number; attempt: number }
  /** An applied fire waiting for its slot: the commit happens ahead, the launch on time. */
  | { key: string; dueMs: number; kind: "launch"; job: string; slot: number; execution: Execution }
  | { key: string; dueMs: number; kind: "sweep" };

const missedReasons: Record<MissedReason, string> = {
  skip: "the scheduler was not running at this slot",
  deadline:
    "the scheduler was not running at this slot, and it is older than the starting deadline",
  run_once: "a later missed slot ran instead",
  run_all_cap: "more slots were missed than run_all launches at once",
};

/** How often quiesce() looks whether the fired slots have launched (ms). */
const quiescePollMs = 10;

/** A due slot this late (ms) goes through the missed-run policy instead of firing directly. */
const lateThresholdMs = 1_000;

export class Scheduler {
  readonly #d: SchedulerDeps;
  readonly #heap = new KeyedHeap<Entry>();
  #timer: TimerHandle | undefined;
  #timerAtMs = Infinity;
  #stopped = false;
  /** Leadership is about to move: no new fires, retries or catch-up; fired slots still launch. */
  #quiescing = false;
  /** Keys of launch entries in the heap: fired slots waiting for their time. */
  #launches = new Set<string>();
  /** Jobs with a fire in flight: their next entry is added once it is applied. */
  #busy = new Set<string>();
  /** Jobs whose fires keep failing: when to try again and what to log. */
  #failing = new Map<
    string,
    { count: number; retryAtMs: number; loggedAtMs: number; unlogged: number }
  >();

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
  }

  /** Entries waiting in the heap (jobs + retries + sweep), for the queue-size metric. */
  get queueSize(): number {
    return this.#heap.size;
  }

  /**
   * Fills the heap from the state (applying missed-run policies) and arms the timer. A new
   * leader's catch-up is planned for every job in one pass and its proposals go out together
   * (one Raft batch per event-loop turn), not one awaited proposal per job.
   */
  async start(): Promise<void> {
    const names = [...this.#d.allJobs()].map((j) => j.name);
    for (let i = 0; i < names.length && !this.#stopped; i += limits.schedulerBatchMax) {
      await Promise.all(
        names.slice(i, i + limits.schedulerBatchMax).map((n) => this.#reschedule(n)),
      );
    }
    if (this.#stopped) return;
    this.#restoreRetries();
    this.#heap.set({
      key: "sweep",
      dueMs: this.#d.clock.nowMs() + limits.leaseSweepMs,
      kind: "sweep",
    });
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#d.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Before handing leadership on: stops firing (the next leader fires from fired_through), and
   * resolves once every slot already fired has launched here and no fire is in flight, or after
   * `maxMs`. Without it a fire committed ahead of its slot would be dropped with this scheduler
   * and its run left `running` until its lease lapsed.
   */
  quiesce(maxMs: number): Promise<void> {
    this.#quiescing = true;
    const clock = this.#d.clock;
    const end = clock.nowMs() + maxMs;
    return new Promise((resolve) => {
      const check = () => {
        const now = clock.nowMs();
        if (this.#stopped || now >= end || (this.#launches.size === 0 && this.#busy.size === 0)) {
          resolve();
          return;
        }
        clock.setTimer(Math.min(end, now + quiescePollMs), check);
      };
      check();
    });
  }

  /** Leadership did not move after quiesce(): schedules again, catching up what it held back. */
  resume(): void {
    if (this.#stopped || !this.#quiescing) return;
    this.#quiescing = false;
    void this.start().catch((err) =>
      console.error(`tock: scheduling did not resume: ${errorMessage(err)}`)
    );
  }

  /** A job was created, updated, toggled or deleted: recompute its entry. */
  jobChanged(name: string): void {
    if (this.#busy.has(name)) return; // re-read when its in-flight fire settles
    void this.#reschedule(name).then(() => this.#arm());
  }

  /** Runs a job now (manual run). `forbid` refuses while it runs unless `force`. */
  async runNow(name: string, force: boolean): Promise<Execution> {
    const job = this.#d.getJob(name);
    if (!job) throw notFound(`job "${name}" not found`);
    const running = this.#d.running(name);
    if (running.length > 0 && !force) {
      if (job.concurrency === "forbid") {
        throw conflict(
          `job "${name}" is running (execution ${
            running[0]?.id
          }) and its concurrency is forbid; use ?force=true to run anyway`,
        );
      }
    }
    if (job.concurrency === "replace") await this.#replace(job, running);
    return this.#d.runner.start(job, this.#d.clock.nowMs(), 1);
  }

  /**
   * An applied command, whichever node proposed it: job changes move the job's entry; the
   * recorded end of a run (on any node's runner) starts its retry, children, ephemeral delete.
   */
  applied(cmd: Command): void {
    switch (cmd.type) {
      case "job.upsert":
        return this.jobChanged(cmd.job.name);
      case "job.toggle":
      case "job.delete":
        return this.jobChanged(cmd.name);
      case "execution.finish": {
        // A lost run (its node vanished) is not a failure of the job: no retry, no children.
        const e = cmd.execution;
        if (e.status !== "success" && e.status !== "failed") return;
        const job = this.#d.getJob(e.job_name);
        if (job) this.onFinished(job, e);
        return;
      }
    }
  }

  /**
   * Retries owed by the previous leader live only in the state: the latest run of each job with
   * retries left that failed (not killed) gets its next attempt, due when it would have been.
   */
  #restoreRetries(): void {
    for (const job of this.#d.allJobs()) {
      if (job.retries <= 0) continue;
      const all = this.#d.executionsOf(job.name);
      const last = all[all.length - 1];
      if (last === undefined || last.status !== "failed") continue;
      if (last.reason.startsWith("killed:") || last.attempt >= job.retries + 1) continue;
      const next = last.attempt + 1;
      const after = (last.finished_at ?? this.#d.clock.nowMs()) + retryDelayMs(job, next);
      this.#heap.set({
        key: `retry:${job.name}:${last.group}`,
        dueMs: Math.max(this.#d.clock.nowMs(), after),
        kind: "retry",
        job: job.name,
        group: last.group,
        attempt: next,
      });
    }
  }

  /** A run's summary is recorded: retries, children, ephemeral (see applied()). */
  onFinished(job: Job, e: Execution): void {
    if (this.#stopped) return;
    if (!e.success) {
      const killed = e.reason.startsWith("killed:");
      const current = this.#d.getJob(job.name);
      if (current && !killed && e.attempt < current.retries + 1) {
        const next = e.attempt + 1;
        this.#heap.set({
          key: `retry:${job.name}:${e.group}`,
          dueMs: this.#d.clock.nowMs() + retryDelayMs(current, next),
          kind: "retry",
          job: job.name,
          group: e.group,
          attempt: next,
        });
        this.#arm();
      }
      return;
    }
    void this.#afterSuccess(job.name, e);
  }

  async #afterSuccess(name: string, e: Execution): Promise<void> {
    const job = this.#d.getJob(name);
    if (!job) return;
    for (const child of job.dependent_jobs ?? []) {
      const c = this.#d.getJob(child);
      if (!c || !runnable(c, this.#d.clock.nowMs())) continue;
      await this.#fire(c, e.group, null).catch((err) =>
        console.error(`tock: child "${child}" of "${name}" not started: ${errorMessage(err)}`)
      );
    }
    if (job.ephemeral) {
      await this.#d.propose({ type: "job.delete", name }).catch((err) =>
        console.error(`tock: ephemeral job "${name}" not deleted: ${errorMessage(err)}`)
      );
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const top = this.#heap.peek();
    const at = top?.dueMs ?? Infinity;
    if (at === this.#timerAtMs) return;
    if (this.#timer !== undefined) this.#d.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerAtMs = at;
    if (at !== Infinity) {
      this.#timer = this.#d.clock.setTimer(at, () => {
        this.#timer = undefined;
        this.#timerAtMs = Infinity;
        this.#tick();
      });
    }
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#d.clock.nowMs();
    for (let n = 0; n < limits.schedulerBatchMax; n++) {
      const e = this.#heap.popDue(now);
      if (!e) break;
      this.#handle(e, now);
    }
    this.#arm();
  }

  #handle(e: Entry, now: number): void {
    if (this.#quiescing && (e.kind === "slot" || e.kind === "retry")) return;
    switch (e.kind) {
      case "slot": {
        const job = this.#d.getJob(e.job);
        if (!job) return;
        this.#busy.add(job.name);
        const work = now - e.slot > lateThresholdMs
          ? this.#catchUp(job)
          : this.#fireSlot(job, e.slot);
        void work
          .then(() => void this.#failing.delete(job.name), (err) => this.#fireFailed(job.name, err))
          .then(() => {
            this.#busy.delete(job.name);
            return this.#reschedule(job.name);
          })
          .then(() => this.#arm());
        return;
      }
      case "retry": {
        const job = this.#d.getJob(e.job);
        if (!job) return;
        void this.#d.runner.start(job, e.group, e.attempt).catch((err) =>
          console.error(`tock: retry ${e.attempt} of "${e.job}" not started: ${errorMessage(err)}`)
        );
        return;
      }
      case "launch": {
        this.#launches.delete(e.key);
        // A job deleted since its fire took the execution with it: nothing to run.
        const job = this.#d.getJob(e.job);
        if (job) this.#launch(job, e.slot, e.execution);
        return;
      }
      case "sweep":
        void this.#sweep(now).finally(() => {
          this.#heap.set({
            key: "sweep",
            dueMs: this.#d.clock.nowMs() + limits.leaseSweepMs,
            kind: "sweep",
          });
          this.#arm();
        });
        return;
    }
  }

  /** Puts the job's next unfired slot in the heap (catching up first if it is overdue). */
  async #reschedule(name: string): Promise<void> {
    if (this.#quiescing) return;
    const job = this.#d.getJob(name);
    const key = `slot:${name}`;
    const due = job && dueOf(job);
    if (!job || job.disabled || job.parent_job !== "" || due === null || due === undefined) {
      this.#heap.delete(key);
      this.#failing.delete(name);
      return;
    }
    const now = this.#d.clock.nowMs();
    const waiting = (this.#failing.get(name)?.retryAtMs ?? -Infinity) > now;
    if (due < now - lateThresholdMs && !waiting) {
      this.#busy.add(name);
      try {
        await this.#catchUp(job);
        this.#failing.delete(name);
      } catch (err) {
        this.#fireFailed(name, err);
      } finally {
        this.#busy.delete(name);
      }
      const after = this.#d.getJob(name);
      const afterDue = after && !after.disabled ? dueOf(after) : null;
      if (afterDue === null || afterDue === undefined) {
        this.#heap.delete(key);
        return;
      }
      this.#setSlot(name, afterDue);
      return;
    }
    this.#setSlot(name, due);
  }

  /** The job's slot entry: due ahead of the slot, or when a failing job may try again. */
  #setSlot(name: string, slot: number): void {
    const retryAt = this.#failing.get(name)?.retryAtMs ?? -Infinity;
    this.#heap.set({
      key: `slot:${name}`,
      dueMs: Math.max(slot - limits.fireLeadMs, retryAt),
      kind: "slot",
      job: name,
      slot,
    });
  }

  /**
   * A fire or catch-up of `name` failed (its write was refused or failed): back off so that a
   * fire that keeps failing cannot spin, log at most once per interval with the count, and
   * count it. When the wait is over the overdue slot goes through the misfire policy.
   */
  #fireFailed(name: string, err: unknown): void {
    const now = this.#d.clock.nowMs();
    const f = this.#failing.get(name) ??
      { count: 0, retryAtMs: now, loggedAtMs: -Infinity, unlogged: 0 };
    f.count++;
    f.unlogged++;
    const wait = Math.min(
      limits.fireRetryMs * 2 ** Math.min(f.count - 1, 30),
      limits.fireRetryMsMax,
    );
    f.retryAtMs = now + wait;
    this.#failing.set(name, f);
    this.#d.metrics.fireFailed(name);
    if (now - f.loggedAtMs >= limits.fireFailureLogMs) {
      console.error(
        `tock: firing "${name}" failed (${f.unlogged} time(s) since the last report, ${f.count} in a row): ${
          errorMessage(err)
        }; trying again in ${wait} ms`,
      );
      f.loggedAtMs = now;
      f.unlogged = 0;
    }
  }

  /** Applies the missed-run policy to every slot from the job's next unfired slot up to now. */
  async #catchUp(job: Job): Promise<void> {
    const now = this.#d.clock.nowMs();
    const schedule = scheduleOf(job);
    const from = dueOf(job);
    if (!schedule || from === null) return;
    const plan = planCatchUp(schedule, {
      lastSlotMs: from - 1,
      nowMs: now,
      policy: job.misfire_policy as MisfirePolicy,
      startingDeadlineMs: startingDeadlineMs(job),
      runAllMax: limits.runAllSlotsMax,
      missedMax: limits.missedRecordsMax,
    });
    const inWindow = (s: number) =>
      (job.starts_at === null || s >= job.starts_at) &&
      (job.expires_at === null || s <= job.expires_at);
    const run = plan.run.filter(inWindow);
    const missed = plan.missed.filter((m) => inWindow(m.slotMs));
    const records = missed.map((m, i) => {
      let reason = `not run: ${
        missedReasons[m.reason]
      } (misfire_policy ${job.misfire_policy}, starting_deadline ${job.starting_deadline})`;
      if (i === 0 && plan.missedTruncated) {
        reason += `; earlier slots were missed too and are not listed`;
      }
      return missedRecord(this.#d.runner.newExecution(job, m.slotMs, 1), reason);
    });
    const lastMissed = missed[missed.length - 1]?.slotMs;
    if (lastMissed !== undefined) {
      const next = run[0] ?? nextRunOf(job, now);
      await this.#d.propose({
        type: "fire",
        job: job.name,
        slot: lastMissed,
        next,
        executions: records,
      });
      this.#d.metrics.missed(job.name, records.length);
    }
    for (const s of run) {
      const current = this.#d.getJob(job.name);
      if (!current) return;
      await this.#fireSlot(current, s);
    }
    if (run.length === 0 && lastMissed === undefined) {
      // Nothing fell in the window (e.g. the schedule ended): just move next forward.
      const current = this.#d.getJob(job.name);
      const due = current && dueOf(current);
      if (current && due !== null && due !== undefined && due <= now) {
        await this.#d.propose({
          type: "fire",
          job: job.name,
          slot: due,
          next: nextRunOf(current, now),
          executions: [],
        });
      }
    }
  }

  /** Fires one scheduled slot under the job's concurrency policy. */
  async #fireSlot(job: Job, slot: number): Promise<void> {
    if (!runnable(job, slot)) return;
    // `allow` jobs need no look at what runs (one query saved per fire).
    const running = job.concurrency === "forbid" || job.concurrency === "replace"
      ? this.#d.running(job.name)
      : [];
    if (running.length > 0 && job.concurrency === "forbid") {
      const record = missedRecord(
        this.#d.runner.newExecution(job, slot, 1),
        `not run: execution ${running[0]?.id} was still running (concurrency forbid)`,
      );
      await this.#d.propose({
        type: "fire",
        job: job.name,
        slot,
        next: nextRunOf(job, slot),
        executions: [record],
      });
      this.#d.metrics.missed(job.name, 1);
      return;
    }
    if (running.length > 0 && job.concurrency === "replace") await this.#replace(job, running);
    await this.#fire(job, slot, nextRunOf(job, slot));
  }

  /**
   * Proposes the fire and launches only once it is applied: at once for a late slot, else at the
   * slot itself (fires are committed limits.fireLeadMs ahead, so commit time is not lateness).
   */
  async #fire(job: Job, slot: number, next: number | null): Promise<void> {
    const execution = this.#d.runner.newExecution(job, slot, 1);
    const nextValue = job.parent_job === "" ? next : job.next;
    await this.#d.propose({
      type: "fire",
      job: job.name,
      slot,
      next: nextValue,
      executions: [execution],
    });
    if (slot > this.#d.clock.nowMs()) {
      const key = `launch:${job.name}:${execution.id}`;
      this.#launches.add(key);
      this.#heap.set({
        key,
        dueMs: slot,
        kind: "launch",
        job: job.name,
        slot,
        execution,
      });
      this.#arm();
      return;
    }
    this.#launch(job, slot, execution);
  }

  #launch(job: Job, slot: number, execution: Execution): void {
    this.#d.metrics.launched(job.name, job.parent_job === "" ? this.#d.clock.nowMs() - slot : null);
    this.#d.runner.launch(job, execution);
  }

  async #replace(job: Job, running: Execution[]): Promise<void> {
    for (const r of running) {
      if (this.#d.runner.kill(job.name, r.id, "replaced by a newer run (concurrency replace)")) {
        await this.#d.runner.finished(job.name, r.id);
      }
    }
  }

  /**
   * Running executions whose lease lapsed become lost, which frees forbid jobs. A lease detects
   * a dead or unreachable runner: a run this node's own runner still holds is alive however late
   * its renewal is (an overloaded event loop delays renewals, not the run).
   */
  async #sweep(now: number): Promise<void> {
    for (const seen of this.#d.running()) {
      if (this.#stopped) return;
      // Each write awaits: re-read the record so a renewal applied meanwhile is not overwritten.
      const e = this.#d.running(seen.job_name).find((r) => r.id === seen.id);
      if (e === undefined || e.lease_until === null || e.lease_until >= now) continue;
      if (this.#d.runner.isRunning(e.job_name, e.id)) continue;
      const job = this.#d.getJob(e.job_name);
      // A slot fired ahead of time whose leader went away before launching it. The record cannot
      // tell "never launched" from "launched, node died before its first renewal", so running it
      // again could run the slot twice: only a job that allows a retry gets one (the lost run
      // follows the retry rules, as any lost run does), and its misfire policy still decides.
      const unlaunched = job !== undefined && neverLaunched(e);
      const rerun = unlaunched && job.retries >= e.attempt && job.misfire_policy !== "skip" &&
        runnable(job, now) &&
        now - e.group <= startingDeadlineMs(job) &&
        !(job.concurrency === "forbid" && this.#d.running(job.name).some((r) => r.id !== e.id));
      const lost = lostExecution(
        e,
        now,
        unlaunched
          ? `lost: fired for its slot ${
            new Date(e.group).toISOString()
          } but never launched (its leader, node ${e.node_name}, stopped before the slot); ${
            rerun
              ? `run again as attempt ${e.attempt + 1}`
              : "not run again (no retries left, or misfire_policy, starting_deadline or its window)"
          }`
          : `lost: its lease lapsed at ${
            new Date(e.lease_until).toISOString()
          } (node ${e.node_name} stopped renewing it)`,
      );
      try {
        await this.#d.propose({ type: "execution.finish", execution: lost });
        this.#d.metrics.lost(e.job_name);
        if (rerun) await this.#d.runner.start(job, e.group, e.attempt + 1);
      } catch (err) {
        // No longer the leader: the next leader's sweep takes over; the rest would fail alike.
        if (isTockError(err) && err.kind === "not_leader") return;
        console.error(`tock: marking ${e.job_name}/${e.id} lost failed: ${errorMessage(err)}`);
      }
    }
  }
}

/** The job's next unfired slot: `next`, unless it is not after the fired_through watermark. */
function dueOf(job: Job): number | null {
  if (job.next === null) return null;
  if (job.fired_through !== null && job.next <= job.fired_through) {
    return nextRunOf(job, job.fired_through);
  }
  return job.next;
}

/**
 * A scheduled fire's record never renewed: committed ahead of its slot (started_at is the fire
 * time) with the lease it was fired with. A runner renews limits.leaseRenewMs after launch, so
 * this is a slot never launched, or one whose node died within that first interval.
 */
function neverLaunched(e: Execution): boolean {
  return e.attempt === 1 && e.started_at !== null && e.started_at < e.group &&
    e.lease_until === e.started_at + limits.leaseMs;
}

/** Scheduled and dependent runs skip disabled, not-yet-started and expired jobs. */
function runnable(job: Job, atMs: number): boolean {
  if (job.disabled) return false;
  if (job.starts_at !== null && atMs < job.starts_at) return false;
  if (job.expires_at !== null && atMs > job.expires_at) return false;
  return true;
}

/**
 * A slot recorded as not run, dated at the slot and naming the node that judged it (Dkron's UI
 * shows started_at and node_name for every execution it lists).
 */
function missedRecord(base: Execution, reason: string): Execution {
  return {
    ...base,
    status: "missed",
    started_at: base.group,
    finished_at: base.group,
    success: false,
    exit_code: null,
    output_size: 0,
    output_tail: "",
    reason,
    lease_until: null,
  };
}
