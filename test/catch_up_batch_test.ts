// Proves a new leader's catch-up is planned in one pass and proposed together: after downtime,
// 200 overdue jobs are caught up in a handful of applied Raft batches (group commit), not one
// batch per job, and every job gets its missed slots recorded and its latest slot run.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Harness, settle, t0 } from "./support/scheduler_harness.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-catchup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("200 overdue jobs are caught up in a few batches, each job once", async () => {
  const first = await Harness.create(t0, join(dir, "state.db"));
  for (let i = 0; i < 200; i++) await first.upsert({ name: `j${i}`, schedule: "0 * * * * *" });
  first.scheduler.stop();
  first.store.close();
  const h = await Harness.create(t0 + 3 * 60_000 + 30_000, join(dir, "state.db"));
  h.exec.autoFinish = true;
  const batches: number[] = [];
  h.store.onAppliedBatch((items) => batches.push(items.length));
  await h.scheduler.start();
  await settle();
  // The first applied batch after start holds every job's missed-slot fire at once.
  expect(batches[0]).toBeGreaterThanOrEqual(200);
  for (const name of ["j0", "j99", "j199"]) {
    expect(h.executions(name).map((e) => e.status)).toEqual(["missed", "missed", "success"]);
  }
  h.scheduler.stop();
});
