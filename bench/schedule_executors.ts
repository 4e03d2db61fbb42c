/**
 * Executor and output.db figures beside the schedule bench: runs/s and run duration p50/p99 for
 * the noop executor and for shell `true` (with and without /bin/sh) at concurrency 1 and 4, and
 * output.db append rate and size with retention on.
 * Usage: bun bench/schedule_executors.ts [--runs 400] [--appends 20000]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type ExecutionRequest,
  executorRegistry,
  OutputStore,
  type SqlDb,
} from "../src/executor/mod.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "400" },
    appends: { type: "string", default: "20000" },
  },
});
const runs = Number(values.runs);
const appends = Number(values.appends);
const reg = executorRegistry();

function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

async function measure(executor: string, config: Record<string, string>, concurrency: number) {
  const ex = reg.get(executor)!;
  const durations: number[] = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < runs) {
      const i = next++;
      const req: ExecutionRequest = {
        executionId: `e${i}`,
        jobName: "bench",
        executor,
        config,
        signal: new AbortController().signal,
        onOutput: () => {},
        outputBytesMax: 256_000,
      };
      const a = performance.now();
      const r = await ex.run(req);
      durations.push(performance.now() - a);
      if (!r.success) failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (performance.now() - t0) / 1000;
  const label = `${executor} ${JSON.stringify(config)} x${concurrency}`;
  console.log(
    `${label} | ${Math.round(runs / s)} runs/s | p50 ${pct(durations, 0.5).toFixed(2)} ms | p99 ${
      pct(durations, 0.99).toFixed(2)
    } ms | failures ${failures}`,
  );
}

console.log(`executor bench: ${runs} runs per line`);
await measure("noop", {}, 1);
await measure("shell", { command: "true" }, 1);
await measure("shell", { command: "true" }, 4);
await measure("shell", { command: "true", shell: "true" }, 4);

const dir = mkdtempSync(join(tmpdir(), "tock-bench-output-"));
try {
  const path = join(dir, "output.db");
  const store = new OutputStore(new DatabaseSync(path) as unknown as SqlDb, {
    executionsPerJobMax: 100,
  });
  const line = new TextEncoder().encode("x".repeat(99) + "\n");
  const t0 = performance.now();
  let execs = 0;
  for (let i = 0; i < appends; i++) {
    if (i % 100 === 0) {
      if (execs > 0) store.finish(`e${execs - 1}`, i);
      store.begin(`e${execs}`, `job${execs % 10}`, i);
      execs++;
    }
    store.append(`e${execs - 1}`, line);
  }
  const s = (performance.now() - t0) / 1000;
  store.close();
  console.log(
    `output.db | ${
      Math.round(appends / s)
    } appends/s of 100 B | ${execs} executions over 10 jobs, ` +
      `retention 100/job | file ${(statSync(path).size / 1024).toFixed(0)} KiB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
