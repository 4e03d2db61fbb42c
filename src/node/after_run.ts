/**
 * What a node does around a run besides executing it: the job's output processors before the
 * finish is recorded, notifications after (and the pre-webhook at start), and the create-time
 * check of executor and processor names against what exists on this node.
 */
import { type Clock, errorMessage, limits } from "../lib/mod.ts";
import {
  notificationNames,
  Notifier,
  type NotifyConfig,
  processorRegistry,
  runProcessors,
  validateNotification,
} from "../processor/mod.ts";
import type { Execution, Job } from "../state/mod.ts";
import type { ExecutorPort, OutputPort } from "./runner.ts";

export interface AfterRunDeps {
  nodeName: string;
  clock: Clock;
  output: OutputPort;
  notify: NotifyConfig;
  executors: ReadonlyMap<string, ExecutorPort>;
}

/** The last outputTailBytesMax bytes of a text, as the replicated summary keeps them. */
function tailOf(text: string): { tail: string; bytes: number } {
  const bytes = new TextEncoder().encode(text);
  const tail = bytes.subarray(Math.max(0, bytes.length - limits.outputTailBytesMax));
  return { tail: new TextDecoder().decode(tail), bytes: bytes.length };
}

export class AfterRun {
  readonly #d: AfterRunDeps;
  readonly #processors = processorRegistry();
  readonly #notifier: Notifier;
  /** Each job's last final (not retried) outcome on this node since it started. */
  readonly #outcomes = new Map<string, boolean>();

  constructor(deps: AfterRunDeps) {
    this.#d = deps;
    this.#notifier = new Notifier({
      clock: deps.clock,
      config: deps.notify,
      nodeName: deps.nodeName,
      log: (line) => console.error(line),
    });
  }

  /**
   * The create-time check, in one place for executors and processors: names are
   * case-insensitive, and an unknown one is refused with the list of what exists.
   */
  check(
    executor: string,
    config: Record<string, string>,
    processors: Record<string, Record<string, string>>,
  ): string | undefined {
    const ex = this.#d.executors.get(executor.toLowerCase());
    if (!ex) {
      return `unknown executor "${executor}"; available: ${
        [...this.#d.executors.keys()].sort().join(", ")
      }`;
    }
    const problem = ex.validate(config);
    if (problem !== undefined) return problem;
    const known = [...this.#processors.keys(), ...notificationNames].sort();
    for (const [rawName, cfg] of Object.entries(processors)) {
      const name = rawName.toLowerCase();
      if ((notificationNames as readonly string[]).includes(name)) {
        const bad = validateNotification(name, cfg, this.#d.notify.mail !== undefined);
        if (bad !== undefined) return bad;
        continue;
      }
      const p = this.#processors.get(name);
      if (!p) return `unknown processor "${rawName}"; available: ${known.join(", ")}`;
      const bad = p.validate(cfg);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }

  started(job: Job, e: Execution): void {
    this.#notifier.started({
      jobName: job.name,
      reportingNode: this.#d.nodeName,
      nodeName: e.node_name,
      startedAt: e.started_at,
      executionId: e.id,
      group: e.group,
    });
  }

  /** Runs the job's output processors; the summary keeps what they left as the output. */
  async process(job: Job, e: Execution): Promise<Execution> {
    const names = Object.keys(job.processors).filter((n) =>
      !(notificationNames as readonly string[]).includes(n.toLowerCase())
    );
    if (names.length === 0) return e;
    const stored = this.#d.output.read(job.name, e.id) ?? "";
    const r = await runProcessors(this.#processors, job.processors, {
      jobName: job.name,
      executionId: e.id,
      nodeName: e.node_name,
      success: e.success,
      startedAt: e.started_at ?? 0,
      finishedAt: e.finished_at ?? 0,
      output: stored,
    }, this.#d.nodeName);
    for (const p of r.problems) console.error(`tock: ${job.name}/${e.id}: ${p}`);
    if (r.output === stored || !this.#d.output.replace) return e;
    try {
      this.#d.output.replace(job.name, e.id, r.output, e.finished_at ?? 0);
    } catch (err) {
      console.error(
        `tock: storing the processed output of ${job.name}/${e.id}: ${errorMessage(err)}`,
      );
      return e;
    }
    const { tail, bytes } = tailOf(r.output);
    return { ...e, output_tail: tail, output_size: bytes };
  }

  /**
   * Queues the notifications of a recorded run; returns at once. Like Dkron, a failed attempt
   * that the scheduler will retry (same rule as its retry decision) notifies nothing: the last
   * attempt does.
   */
  notify(job: Job, e: Execution): void {
    const willRetry = !e.success && !e.reason.startsWith("killed:") && e.attempt < job.retries + 1;
    if (willRetry) return;
    // The outcome before this run, for notify-when change. The job's last_success/last_error
    // already hold a retried group's earlier attempts, so the last final outcome seen here is
    // preferred; the job's fields are used for a first attempt this process has not seen.
    const fromJob = job.last_success === null && job.last_error === null
      ? undefined
      : (job.last_success ?? -Infinity) >= (job.last_error ?? -Infinity);
    const previousSuccess = this.#outcomes.get(job.name) ?? (e.attempt === 1 ? fromJob : undefined);
    this.#outcomes.set(job.name, e.success);
    let output = e.output_tail;
    try {
      output = this.#d.output.read(job.name, e.id) ?? e.output_tail;
    } catch { /* the summary's tail will do */ }
    this.#notifier.finished({
      jobName: job.name,
      reportingNode: this.#d.nodeName,
      nodeName: e.node_name,
      startedAt: e.started_at,
      finishedAt: e.finished_at,
      success: e.success,
      output,
      executionId: e.id,
      group: e.group,
      ownerEmail: job.owner_email,
      processors: job.processors,
      previousSuccess,
    });
  }

  /** Forgets a deleted job. */
  forget(jobName: string): void {
    this.#outcomes.delete(jobName);
  }

  stop(): void {
    this.#notifier.stop();
  }
}
