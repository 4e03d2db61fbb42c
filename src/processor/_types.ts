/** The processor contract: what runs on the executing node after a run, before it is recorded. */

/** One finished run handed to a processor. */
export interface ProcessorRun {
  jobName: string;
  executionId: string;
  /** The node that executed the run (this node). */
  nodeName: string;
  success: boolean;
  startedAt: number;
  finishedAt: number;
  /** The output as left by the processors before this one (the stored output at first). */
  output: string;
  /** The processor's entry of the job's `processors` map, plus `reporting_node` (Dkron). */
  config: Record<string, string>;
  /** Aborted at limits.processorTimeoutMs: the processor gives up and the run is kept as is. */
  signal: AbortSignal;
}

/** A processor: checks its config at job create and handles one finished run. */
export interface Processor {
  name: string;
  validate(config: Record<string, string>): string | undefined;
  /**
   * Returns the output to keep: the input when `forward` is true, else a marker that says where
   * the output went (Dkron). Throws (with a message naming the problem) when it failed; the run
   * is then recorded with its output unchanged.
   */
  process(run: ProcessorRun): Promise<string>;
}
