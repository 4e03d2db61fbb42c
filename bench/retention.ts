/**
 * Memory and disk after 1M execution records with retention on: 1,000 jobs, each fired and
 * finished 1,000 times through the state machine (group-committed batches of 1,000 commands),
 * with each run's output written to output.db. Retention keeps 100 executions per job.
 * Usage: bun bench/retention.ts [--jobs 1000] [--runs 1000]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openOutputPort } from "../src/node/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { type Command, type Execution, parseJobBody } from "../src/state/mod.ts";
import { SqliteStateStore } from "../src/store/mod.ts";

const { values } = parseArgs({
  options: { jobs: { type: "string", default: "1000" }, runs: { type: "string", default: "1000" } },
});
const jobs = Number(values.jobs), runs = Number(values.runs);
const rt = await loadRuntime();
const dir = mkdtempSync(join(tmpdir(), "tock-bench-ret-"));
const store = new SqliteStateStore(rt.openDb(join(dir, "state.db")));
const output = openOutputPort(rt, dir);
const rss = () => process.memoryUsage().rss / 2 ** 20;
const size = (f: string) => {
  try {
    return statSync(join(dir, f)).size / 2 ** 20;
  } catch {
    return 0;
  }
};

let index = 1;
const setup: Command[] = [];
for (let j = 0; j < jobs; j++) {
  const job = parseJobBody({ name: `r${j}`, schedule: "@every 1s", executor: "noop" });
  setup.push({ type: "job.upsert", job });
}
store.applyBatch(index, setup);
index += setup.length;
const rss0 = rss();
const t0 = performance.now();
const line = new TextEncoder().encode("x".repeat(200) + "\n");
for (let r = 1; r <= runs; r++) {
  const slot = r * 1000;
  const fires: Command[] = [];
  const finishes: Command[] = [];
  for (let j = 0; j < jobs; j++) {
    const e: Execution = {
      id: `${slot}-1`,
      job_name: `r${j}`,
      group: slot,
      attempt: 1,
      status: "running",
      started_at: slot,
      finished_at: null,
      success: false,
      node_name: "n1",
      exit_code: null,
      output_size: 0,
      output_tail: "",
      reason: "",
      lease_until: slot + 15_000,
    };
    fires.push({ type: "fire", job: e.job_name, slot, next: slot + 1000, executions: [e] });
    finishes.push({
      type: "execution.finish",
      execution: {
        ...e,
        status: "success",
        success: true,
        finished_at: slot + 5,
        exit_code: 0,
        output_size: 201,
        output_tail: "x\n",
        lease_until: null,
      },
    });
    output.begin(e.job_name, e.id, slot);
    output.append(e.job_name, e.id, line);
    output.finish(e.job_name, e.id, slot + 5, false);
  }
  for (const r of store.applyBatch(index, fires)) if (!r.ok) throw r.error;
  index += fires.length;
  for (const r of store.applyBatch(index, finishes)) if (!r.ok) throw r.error;
  index += finishes.length;
  if (r % 250 === 0) {
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `${(r * jobs).toLocaleString()} executions: ${
        ((r * jobs) / secs).toFixed(0)
      } records/s, RSS ${rss().toFixed(0)} MiB (+${(rss() - rss0).toFixed(0)}), state.db ${
        size("state.db").toFixed(1)
      } MiB (+wal ${size("state.db-wal").toFixed(1)}), output.db ${
        size("output.db").toFixed(1)
      } MiB`,
    );
  }
}
const kept = store.executionsOf("r0").length;
console.log(
  `kept per job: ${kept} (retention ${100}); total records written ${
    (runs * jobs).toLocaleString()
  }`,
);
store.close();
output.close();
rmSync(dir, { recursive: true, force: true });
