/**
 * Runs executions on this node. An execution is first recorded as running (by a `fire` or an
 * `execution.start` command); launch() then runs its executor with output streamed to the local
 * output store and live watchers, keeps its lease renewed, and records the finished summary.
 */
import { type Clock, errorMessage, isTockError, limits, type TimerHandle } from "../lib/mod.ts";
import { type Execution, executionId, type Job } from "../state/mod.ts";
import type { Executor } from "../executor/mod.ts";
import type { Proposer } from "./door.ts";
import type { OutputHub } from "./output_hub.ts";

/** The executor contract, as src/executor defines it. */
export type ExecutorPort = Executor;

/** Where full output goes: the node-local output store. */
export interface OutputPort {
  begin(jobName: string, executionId: string, startedMs: number): void;
  append(jobName: string, executionId: string, chunk: Uint8Array): void;
  finish(jobName: string, executionId: string, finishedMs: number, truncated: boolean): void;
  read(jobName: string, executionId: string): string | undefined;
  /** Replaces a finished execution's stored output (a processor sent it elsewhere). */
  replace?(jobName: string, executionId: string, text: string, finishedMs: number): void;
  deleteJob(jobName: string): void;
  /** Applies age and total-size retention; returns how many executions' output was deleted. */
  prune(nowMs: number): number;
  /** Remembers the process group of a running execution until it ends (crash cleanup). */
  rememberProcess(jobName: string, executionId: string, pgid: number): void;
  forgetProcesses(jobName: string, executionId: string): void;
}

export interface RunnerDeps {
  nodeName: string;
  clock: Clock;
  proposer: Proposer;
  executors: ReadonlyMap<string, ExecutorPort>;
  output: OutputPort;
  hub: OutputHub;
  /** Is an execution with this id already recorded for the job? */
  exists(job: string, id: string): boolean;
  /**
   * Runs after the executor, before the finished summary is recorded (the job's processors);
   * returns the summary to record. The lease stays renewed meanwhile. A throw keeps `e`.
   */
  postRun?(job: Job, e: Execution): Promise<Execution>;
  /** Called after the finished summary is recorded (or failed to record). */
  onFinished?(job: Job, e: Execution): void;
  onStarted?(job: Job, e: Execution): void;
}

/** Execution ids repeat across jobs; live output is keyed by both. */
export const liveKey = (job: string, id: string): string => `${job}/${id}`;

interface Running {
  abort: AbortController;
  done: Promise<void>;
  killedBy: string;
  /** The job was deleted: its executions went with it, so there is no end to record. */
  jobGone: boolean;
}

export class Runner {
  readonly #deps: RunnerDeps;
  readonly #running = new Map<string, Running>();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** A running-execution record for (job, group, attempt), started now with a fresh lease. */
  newExecution(job: Job, group: number, attempt: number): Execution {
    const now = this.#deps.clock.nowMs();
    return {
      id: executionId(group, attempt),
      job_name: job.name,
      group,
      attempt,
      status: "running",
      started_at: now,
      finished_at: null,
      success: false,
      node_name: this.#deps.nodeName,
      exit_code: null,
      output_size: 0,
      output_tail: "",
      reason: "",
      lease_until: now + limits.leaseMs,
    };
  }

  /** Records and launches a run outside the slot schedule (manual run or retry attempt). */
  async start(job: Job, groupMs: number, attempt = 1): Promise<Execution> {
    let group = groupMs;
    while (this.#deps.exists(job.name, executionId(group, attempt))) group++; // two manual runs in one ms
    const execution = this.newExecution(job, group, attempt);
    await this.#deps.proposer.propose({ type: "execution.start", execution });
    this.launch(job, execution);
    return execution;
  }

  /** Runs an execution that is already recorded as running; started_at becomes the real start. */
  launch(job: Job, recorded: Execution): void {
    const d = this.#deps;
    const e: Execution = { ...recorded, started_at: d.clock.nowMs() };
    const key = liveKey(job.name, e.id);
    const abort = new AbortController();
    d.hub.start(key);
    d.onStarted?.(job, e);
    const entry: Running = { abort, done: Promise.resolve(), killedBy: "", jobGone: false };
    entry.done = this.#execute(job, e, entry).finally(() => {
      this.#running.delete(key);
      d.hub.end(key);
    });
    this.#running.set(key, entry);
  }

  /** Stops a running execution (its whole process group); false if it is not running here. */
  kill(job: string, id: string, reason: string): boolean {
    const r = this.#running.get(liveKey(job, id));
    if (!r) return false;
    r.killedBy = reason;
    r.abort.abort();
    return true;
  }

  /**
   * The job was deleted: stops its running executions here (whole process groups). Resolves
   * once they have ended; nothing is recorded for them (the job took its executions along).
   */
  killJob(job: string): Promise<void> {
    const ended: Promise<void>[] = [];
    for (const [key, r] of this.#running) {
      if (!key.startsWith(`${job}/`) || key.indexOf("/", job.length + 1) !== -1) continue;
      r.jobGone = true;
      r.killedBy = "its job was deleted";
      r.abort.abort();
      ended.push(r.done);
    }
    return Promise.all(ended).then(() => {});
  }

  /** Resolves when the execution has finished and its summary was proposed. */
  finished(job: string, id: string): Promise<void> {
    return this.#running.get(liveKey(job, id))?.done ?? Promise.resolve();
  }

  isRunning(job: string, id: string): boolean {
    return this.#running.has(liveKey(job, id));
  }

  async #execute(job: Job, e: Execution, entry: Running): Promise<void> {
    const d = this.#deps;
    const tail = new TailBuffer(limits.outputTailBytesMax);
    let begun = false;
    let spawned = false;
    const onOutput = (chunk: Uint8Array) => {
      tail.push(chunk);
      // The output record is created on the first chunk: a silent run costs output.db nothing.
      if (!begun) {
        begun = true;
        d.output.begin(job.name, e.id, e.started_at ?? d.clock.nowMs());
      }
      d.output.append(job.name, e.id, chunk);
      d.hub.push(liveKey(job.name, e.id), chunk);
    };
    let lease: TimerHandle | undefined;
    const renew = () => {
      lease = d.clock.setTimer(d.clock.nowMs() + limits.leaseRenewMs, () => {
        const leaseUntil = d.clock.nowMs() + limits.leaseMs;
        d.proposer.propose({ type: "execution.renew", job: job.name, id: e.id, leaseUntil }).then(
          () => {
            if (lease !== undefined) renew();
          },
          (err) => {
            if (leaseGone(err)) {
              // The record is no longer running (declared lost, replaced, deleted): stop the run.
              console.error(`tock: lease of ${job.name}/${e.id} lost: ${errorMessage(err)}`);
              this.kill(job.name, e.id, "its lease was lost");
              return;
            }
            // Timeout, overload, no leader: the outcome is unknown and the run is healthy; a
            // later renewal may still get through before the lease lapses, so keep trying.
            console.error(
              `tock: renewing the lease of ${job.name}/${e.id} failed, trying again: ${
                errorMessage(err)
              }`,
            );
            if (lease !== undefined) renew();
          },
        );
      });
    };
    renew();
    let result: Awaited<ReturnType<ExecutorPort["run"]>>;
    const executor = d.executors.get(job.executor.toLowerCase());
    if (!executor) {
      result = {
        success: false,
        exitCode: null,
        error: `executor "${job.executor}" is not present on node ${d.nodeName}`,
        outputBytes: 0,
        truncated: false,
      };
    } else {
      try {
        result = await executor.run({
          executionId: e.id,
          jobName: job.name,
          executor: job.executor,
          config: job.executor_config ?? {},
          signal: entry.abort.signal,
          onOutput,
          onSpawn: (pgid) => {
            spawned = true;
            d.output.rememberProcess(job.name, e.id, pgid);
          },
          outputBytesMax: limits.outputBytesMax,
        });
      } catch (err) {
        result = {
          success: false,
          exitCode: null,
          error: errorMessage(err),
          outputBytes: tail.total,
          truncated: false,
        };
      }
    }
    if (entry.killedBy !== "") {
      result = { ...result, success: false, error: `killed: ${entry.killedBy}` };
    }
    if (!result.success && result.error) onOutput(new TextEncoder().encode(`\n${result.error}\n`));
    const finishedAt = d.clock.nowMs();
    if (begun) d.output.finish(job.name, e.id, finishedAt, result.truncated);
    if (spawned) d.output.forgetProcesses(job.name, e.id);
    let finished: Execution = {
      ...e,
      status: result.success ? "success" : "failed",
      success: result.success,
      finished_at: finishedAt,
      exit_code: result.exitCode,
      output_size: Math.max(result.outputBytes, tail.total),
      output_tail: tail.text(),
      reason: result.success ? "" : result.error,
      lease_until: null,
    };
    if (entry.jobGone) {
      if (lease !== undefined) d.clock.clearTimer(lease);
      lease = undefined;
      return;
    }
    if (d.postRun) {
      try {
        finished = await d.postRun(job, finished);
      } catch (err) {
        console.error(`tock: processors of ${e.job_name}/${e.id} failed: ${errorMessage(err)}`);
      }
    }
    if (lease !== undefined) d.clock.clearTimer(lease);
    lease = undefined;
    try {
      await d.proposer.propose({ type: "execution.finish", execution: finished });
    } catch (err) {
      console.error(
        `tock: recording the end of ${e.job_name}/${e.id} failed: ${errorMessage(err)}`,
      );
    }
    d.onFinished?.(job, finished);
  }

  /** Waits for running executions; after `graceMs` kills the rest and waits for them. */
  async drain(graceMs: number): Promise<void> {
    const current = () => Promise.all([...this.#running.values()].map((r) => r.done));
    // A leader that could not hand off still launches runs while draining: wait for those too.
    const all = async () => {
      while (this.#running.size > 0) await current();
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), graceMs)));
    const first = await Promise.race([all().then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (first === "timeout") {
      for (const r of this.#running.values()) {
        r.killedBy = "the node shut down";
        r.abort.abort();
      }
      await current();
    }
  }
}

/** A renewal refused because the record is not a running execution any more. */
function leaseGone(err: unknown): boolean {
  return isTockError(err) && (err.kind === "conflict" || err.kind === "not_found");
}

/** Keeps the last `max` bytes of a stream and counts all of it. */
class TailBuffer {
  readonly #max: number;
  #chunks: Uint8Array[] = [];
  #kept = 0;
  total = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    this.#chunks.push(chunk);
    this.#kept += chunk.length;
    while (
      this.#chunks.length > 1 && this.#kept - (this.#chunks[0] as Uint8Array).length >= this.#max
    ) {
      this.#kept -= (this.#chunks.shift() as Uint8Array).length;
    }
  }

  text(): string {
    const all = new Uint8Array(this.#kept);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all.subarray(Math.max(0, all.length - this.#max)));
  }
}
