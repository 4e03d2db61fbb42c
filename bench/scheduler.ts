/**
 * Scheduling figures on one node (the server in its own process; this script drives it over
 * REST and reads /proc for CPU and RSS). Side by side in one run:
 *  1. idle cost with 10k and 100k jobs defined (yearly schedules): CPU % and RSS;
 *  2. lateness (slot → executor start) p50/p99/max and launches/s with 1,000 jobs every second
 *     on the noop executor, and 300 jobs every second on a shell `true` executor.
 * Usage: bun bench/scheduler.ts [--idle 10000,100000] [--busy 1000] [--shell-jobs 300] [--seconds 20]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type AgentProcess, withDevAgent } from "../test/support/proc.ts";

const { values } = parseArgs({
  options: {
    idle: { type: "string", default: "10000,100000" },
    busy: { type: "string", default: "1000" },
    "shell-jobs": { type: "string", default: "300" },
    seconds: { type: "string", default: "20" },
  },
});

const clk = 100; // USER_HZ on Linux
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(f[11]) + Number(f[12]); // utime + stime
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const withAgent = <T>(fn: (a: AgentProcess) => Promise<T>) =>
  withDevAgent("tock-bench-sched-", fn, 120_000);

/** Creates jobs through POST /v1/restore in files of 5,000 (one propose per job, fsync each). */
async function createJobs(
  a: AgentProcess,
  n: number,
  make: (i: number) => Record<string, unknown>,
) {
  for (let from = 0; from < n; from += 5_000) {
    const jobs = Array.from({ length: Math.min(5_000, n - from) }, (_, k) => make(from + k));
    const form = new FormData();
    form.set("file", new Blob([JSON.stringify(jobs)]));
    const res = await fetch(`${a.url}/v1/restore`, { method: "POST", body: form });
    if (res.status !== 200) throw new Error(`restore: ${res.status} ${await res.text()}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = Number(values.seconds);

for (const n of values.idle.split(",").filter((x) => x !== "" && x !== "none").map(Number)) {
  await withAgent(async (a) => {
    const pid = a.proc.pid as number;
    const t0 = performance.now();
    await createJobs(a, n, (i) => ({
      name: `idle-${i}`,
      schedule: `0 ${i % 60} ${i % 24} 1 1 *`,
      executor: "noop",
      executor_config: {},
    }));
    const createS = (performance.now() - t0) / 1000;
    await sleep(2_000);
    const c0 = cpuTicks(pid);
    await sleep(10_000);
    const cpu = ((cpuTicks(pid) - c0) / clk / 10) * 100;
    console.log(
      `idle ${n} jobs: CPU ${cpu.toFixed(2)}% RSS ${rssMiB(pid).toFixed(0)} MiB (created in ${
        createS.toFixed(1)
      } s, ${(n / createS).toFixed(0)} jobs/s)`,
    );
  });
}

for (const executor of ["noop", "shell"]) {
  // A shell `true` costs ~1.5 ms of CPU to spawn: 1,000/s would saturate 2 cores by itself.
  const n = Number(executor === "shell" ? values["shell-jobs"] : values.busy);
  await withAgent(async (a) => {
    const pid = a.proc.pid as number;
    await createJobs(a, n, (i) => ({
      name: `busy-${i}`,
      schedule: "@every 1s",
      executor,
      executor_config: executor === "shell" ? { command: "true" } : {},
    }));
    await sleep(2_000);
    const metric = async (name: string) => {
      const text = await (await fetch(`${a.url}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
    };
    const l0 = await metric("tock_launches_total");
    const c0 = cpuTicks(pid);
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const tEnd = Date.now();
    const launches = (await metric("tock_launches_total")) - l0;
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = ((cpuTicks(pid) - c0) / clk / elapsed) * 100;
    const lateness: number[] = [];
    let missed = 0;
    for (let i = 0; i < n; i++) {
      const list = await (await fetch(`${a.url}/v1/jobs/busy-${i}/executions?output_size_limit=0`))
        .json();
      for (const e of list as Array<{ started_at: string; group: number; status: string }>) {
        if (e.status === "missed" && e.group / 1e6 >= t0 && e.group / 1e6 < tEnd) missed++;
        // Steady state only: slots inside the measured window (not while jobs were being created).
        // (Reading the results loads the server, so slots after the window are left out too.)
        else if (
          e.group / 1e6 >= t0 && e.group / 1e6 < tEnd && e.started_at &&
          !e.started_at.startsWith("0001")
        ) {
          lateness.push(Date.parse(e.started_at) - e.group / 1e6);
        }
      }
    }
    console.log(
      `${n} jobs @every 1s, ${executor}: launches ${
        (launches / elapsed).toFixed(0)
      }/s, lateness p50 ${pct(lateness, 50)} ms p99 ${pct(lateness, 99)} ms max ${
        Math.max(...lateness)
      } ms, missed ${missed}, CPU ${cpu.toFixed(0)}%, RSS ${rssMiB(pid).toFixed(0)} MiB`,
    );
  });
}
