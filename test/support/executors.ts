/** Runs one executor the way the runner does, collecting output, for executor tests. */
import { Buffer } from "node:buffer";
import { limits } from "../../src/lib/mod.ts";
import type { ExecutionResult, Executor } from "../../src/executor/mod.ts";

export async function runExecutor(
  executor: Executor,
  config: Record<string, string>,
  opts: { signal?: AbortSignal; jobName?: string } = {},
): Promise<ExecutionResult & { output: string }> {
  const chunks: Uint8Array[] = [];
  const result = await executor.run({
    executionId: "20260101000000-1",
    jobName: opts.jobName ?? "job1",
    executor: executor.name,
    config,
    signal: opts.signal ?? new AbortController().signal,
    onOutput: (c) => chunks.push(c.slice()),
    outputBytesMax: limits.outputBytesMax,
  });
  return { ...result, output: Buffer.concat(chunks).toString() };
}
