/**
 * Runs a job's processors in order after a run (Dkron ran them in Go's random map order; Tock
 * uses the order the job lists them). Each gets the output as the previous one left it. A
 * processor that fails or times out is logged and skipped; it never fails the run.
 */
import { errorMessage, limits } from "../lib/mod.ts";
import { notificationNames } from "./notify.ts";
import type { Processor, ProcessorRun } from "./_types.ts";

export interface ChainResult {
  output: string;
  /** One line per processor that failed, for the agent log. */
  problems: string[];
}

export async function runProcessors(
  registry: ReadonlyMap<string, Processor>,
  processors: Record<string, Record<string, string>>,
  run: Omit<ProcessorRun, "config" | "signal">,
  reportingNode: string,
): Promise<ChainResult> {
  let output = run.output;
  const problems: string[] = [];
  for (const [rawName, config] of Object.entries(processors)) {
    const name = rawName.toLowerCase();
    if ((notificationNames as readonly string[]).includes(name)) continue; // sent after the record
    const p = registry.get(name);
    if (!p) {
      problems.push(`processor "${rawName}" is not present on node ${run.nodeName}; skipped`);
      continue;
    }
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`processor ${name}: timed out after ${limits.processorTimeoutMs} ms`));
      }, limits.processorTimeoutMs);
    });
    try {
      output = await Promise.race([
        p.process({
          ...run,
          output,
          config: { ...config, reporting_node: reportingNode },
          signal: abort.signal,
        }),
        timeout,
      ]);
    } catch (e) {
      problems.push(errorMessage(e));
    } finally {
      clearTimeout(timer);
    }
  }
  return { output, problems };
}
