/** The production wiring of a node's IO: built-in executors and the local output.db. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { executorRegistry, OutputStore } from "../executor/mod.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { NodeIo } from "./node.ts";
import type { OutputPort } from "./runner.ts";

/** Output keys are per node, so they combine job and execution id (ids repeat across jobs). */
const key = (job: string, id: string) => `${job}/${id}`;

/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22), or undefined. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export type LocalOutput = OutputPort & {
  close(): void;
  /** Kills the process groups of executions a previous process of this node left running. */
  killOrphans(): number;
};

export function openOutputPort(runtime: Runtime, dataDir: string): LocalOutput {
  const db = runtime.openDb(join(dataDir, "output.db"));
  // Output is not replicated state: a crash may lose its last chunks, so skip the per-commit fsync.
  db.exec("pragma synchronous = NORMAL");
  db.exec(`create table if not exists local_processes (
    key text not null, pgid integer not null, start_ticks text not null, primary key (key, pgid)) strict`);
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
    replace: (job, id, text, finishedMs) => {
      store.delete(key(job, id));
      store.begin(key(job, id), job, finishedMs);
      store.append(key(job, id), new TextEncoder().encode(text));
      store.finish(key(job, id), finishedMs, false);
    },
    deleteJob: (job) => void store.deleteJob(job),
    prune: (nowMs) => store.prune(nowMs),
    rememberProcess: (job, id, pgid) => {
      const ticks = processStartTicks(pgid);
      if (ticks === undefined) return; // already gone
      db.prepare("insert or replace into local_processes (key, pgid, start_ticks) values (?, ?, ?)")
        .run(key(job, id), pgid, ticks);
    },
    forgetProcesses: (job, id) =>
      void db.prepare("delete from local_processes where key = ?").run(key(job, id)),
    killOrphans: () => {
      let killed = 0;
      for (const r of db.prepare("select pgid, start_ticks from local_processes").all()) {
        const pgid = Number(r["pgid"]);
        // Only the same process (pid reuse would show another start time) gets its group killed.
        if (processStartTicks(pgid) !== r["start_ticks"]) continue;
        try {
          process.kill(-pgid, "SIGKILL");
          killed++;
        } catch { /* exited meanwhile */ }
      }
      db.exec("delete from local_processes");
      return killed;
    },
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
