/** The production wiring of a node's IO: built-in executors and the local output.db. */
import { join } from "node:path";
import { executorRegistry, OutputStore } from "../executor/mod.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { NodeIo } from "./node.ts";
import type { OutputPort } from "./runner.ts";

/** Output keys are per node, so they combine job and execution id (ids repeat across jobs). */
const key = (job: string, id: string) => `${job}/${id}`;

export function openOutputPort(runtime: Runtime, dataDir: string): OutputPort & { close(): void } {
  const db = runtime.openDb(join(dataDir, "output.db"));
  // Output is not replicated state: a crash may lose its last chunks, so skip the per-commit fsync.
  db.exec("pragma synchronous = NORMAL");
  const store = new OutputStore(db);
  const decoder = new TextDecoder();
  return {
    begin: (job, id, startedMs) => void store.begin(key(job, id), job, startedMs),
    append: (job, id, chunk) => void store.append(key(job, id), chunk),
    finish: (job, id, finishedMs, truncated) => store.finish(key(job, id), finishedMs, truncated),
    read: (job, id) => {
      const bytes = store.read(key(job, id));
      return bytes === undefined ? undefined : decoder.decode(bytes);
    },
    deleteJob: (job) => void store.deleteJob(job),
    prune: (nowMs) => store.prune(nowMs),
    close: () => store.close(),
  };
}

export function defaultNodeIo(runtime: Runtime): NodeIo {
  return {
    runtime,
    executors: executorRegistry(),
    openOutput: (dataDir) => openOutputPort(runtime, dataDir),
  };
}
