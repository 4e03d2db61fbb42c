/**
 * Runs one execution of a job on this node: records it as running through propose(), runs the
 * executor with output streamed to the local output store and live watchers, then records the
 * finished summary. Scheduling (slots, retries, chains, leases) builds on this.
 */
import { errorMessage, limits } from "../lib/mod.ts";
import { type Execution, executionId, type Job } from "../state/mod.ts";
import type { Proposer } from "./local_log.ts";
import type { OutputHub } from "./output_hub.ts";

/** The executor contract (src/executor implements it). */
export interface ExecutorPort {
  name: string;
  validate(config: Record<string, string>): string | undefined;
  run(req: {
    executionId: string;
    jobName: string;
    executor: string;
    config: Record<string, string>;
    signal: AbortSignal;
    onOutput(chunk: Uint8Array): void;
    outputBytesMax: number;
  }): Promise<
    {
      success: boolean;
      exitCode: number | null;
      error: string;
      outputBytes: number;
      truncated: boolean;
    }
  >;
}

/** Where full output goes: the node-local output store. */
export interface OutputPort {
  begin(jobName: string, executionId: string, startedMs: number): void;
  append(jobName: string, executionId: string, chunk: Uint8Array): void;
  finish(jobName: string, executionId: string, finishedMs: number, truncated: boolean): void;
  read(jobName: string, executionId: string): string | undefined;
  deleteJob(jobName: string): void;
  /** Applies age and total-size retention; returns how many executions' output was deleted. */
  prune(nowMs: number): number;
}

export interface RunnerDeps {
  nodeName: string;
  nowMs(): number;
  proposer: Proposer;
  executors: ReadonlyMap<string, ExecutorPort>;
  output: OutputPort;
  hub: OutputHub;
  /** Is an execution with this id already recorded for the job? */
  exists(job: string, id: string): boolean;
  onFinished?(e: Execution): void;
}

const tailOf = (bytes: Uint8Array[], total: number): string => {
  const all = new Uint8Array(Math.min(total, limits.outputTailBytesMax));
  let at = all.length;
  for (let i = bytes.length - 1; i >= 0 && at > 0; i--) {
    const c = bytes[i] as Uint8Array;
    const take = Math.min(c.length, at);
    all.set(c.subarray(c.length - take), at - take);
    at -= take;
  }
  return new TextDecoder().decode(all.subarray(at));
};

/** Execution ids repeat across jobs; live output is keyed by both. */
export const liveKey = (job: string, id: string): string => `${job}/${id}`;

export class Runner {
  readonly #deps: RunnerDeps;
  readonly #running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Records a running execution for `job` at `groupMs` and starts it; returns the record. */
  async start(job: Job, groupMs: number, attempt = 1): Promise<Execution> {
    const d = this.#deps;
    let group = groupMs;
    while (d.exists(job.name, executionId(group, attempt))) group++; // two manual runs in one ms
    const execution: Execution = {
      id: executionId(group, attempt),
      job_name: job.name,
      group,
      attempt,
      status: "running",
      started_at: d.nowMs(),
      finished_at: null,
      success: false,
      node_name: d.nodeName,
      exit_code: null,
      output_size: 0,
      output_tail: "",
      reason: "",
    };
    await d.proposer.propose({ type: "execution.start", execution });
    const abort = new AbortController();
    d.output.begin(job.name, execution.id, execution.started_at as number);
    d.hub.start(liveKey(job.name, execution.id));
    const done = this.#execute(job, execution, abort.signal).finally(() => {
      this.#running.delete(execution.id);
      d.hub.end(liveKey(job.name, execution.id));
    });
    this.#running.set(execution.id, { abort, done });
    return execution;
  }

  async #execute(job: Job, e: Execution, signal: AbortSignal): Promise<void> {
    const d = this.#deps;
    const chunks: Uint8Array[] = [];
    let total = 0;
    const onOutput = (chunk: Uint8Array) => {
      total += chunk.length;
      chunks.push(chunk);
      while (
        chunks.length > 1 && total - (chunks[0] as Uint8Array).length >= limits.outputTailBytesMax
      ) {
        total -= (chunks.shift() as Uint8Array).length;
      }
      d.output.append(job.name, e.id, chunk);
      d.hub.push(liveKey(job.name, e.id), chunk);
    };
    let result: Awaited<ReturnType<ExecutorPort["run"]>>;
    const executor = d.executors.get(job.executor);
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
          signal,
          onOutput,
          outputBytesMax: limits.outputBytesMax,
        });
      } catch (err) {
        result = {
          success: false,
          exitCode: null,
          error: errorMessage(err),
          outputBytes: total,
          truncated: false,
        };
      }
    }
    if (!result.success && result.error) onOutput(new TextEncoder().encode(`\n${result.error}\n`));
    d.output.finish(job.name, e.id, d.nowMs(), result.truncated);
    const finished: Execution = {
      ...e,
      status: result.success ? "success" : "failed",
      success: result.success,
      finished_at: d.nowMs(),
      exit_code: result.exitCode,
      output_size: Math.max(result.outputBytes, 0),
      output_tail: tailOf(chunks, chunks.reduce((n, c) => n + c.length, 0)),
      reason: result.success ? "" : result.error,
    };
    try {
      await d.proposer.propose({ type: "execution.finish", execution: finished });
      d.onFinished?.(finished);
    } catch (err) {
      console.error(
        `tock: recording the end of ${e.job_name}/${e.id} failed: ${errorMessage(err)}`,
      );
    }
  }

  /** Waits for running executions; after `graceMs` aborts the rest and waits for them. */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), graceMs)));
    const first = await Promise.race([all().then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (first === "timeout") {
      for (const r of this.#running.values()) r.abort.abort();
      await all();
    }
  }
}
