/**
 * REST API figures on one node (server in its own process, client here, loopback):
 * job upsert latency, then GET /v1/jobs page of 25 with 10k jobs defined (plain, sorted, filtered).
 * Usage: bun bench/api.ts [--jobs 10000] [--runtime bun|deno]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { devAgentArgs, repoRoot, startAgent, stopAgent } from "../test/support/proc.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    runtime: { type: "string", default: "bun" },
  },
});
const jobs = Number(values.jobs);
const dir = mkdtempSync(join(tmpdir(), "tock-bench-api-"));
const command = values.runtime === "deno"
  ? [
    join(repoRoot, "node_modules/.bin/deno"),
    "run",
    "-A",
    "--unstable-no-legacy-abort",
    join(repoRoot, "src/main.ts"),
  ]
  : undefined;
const agent = await startAgent(devAgentArgs(join(dir, "data")), {
  ...(command ? { command } : {}),
  timeoutMs: 60_000,
});

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const body = (i: number) =>
  JSON.stringify({
    name: `bench-${String(i).padStart(6, "0")}`,
    schedule: `0 ${i % 60} * * * *`,
    executor: "shell",
    executor_config: { command: "true" },
    metadata: { team: `t${i % 10}` },
  });

try {
  const upserts: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) {
    upserts.push(
      await time(async () => {
        const r = await fetch(`${agent.url}/v1/jobs`, { method: "POST", body: body(i) });
        if (r.status !== 201) throw new Error(`upsert ${i}: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      }),
    );
  }
  const upsertSecs = (performance.now() - t0) / 1000;
  console.log(
    `upsert (sequential, ${jobs} jobs, fsync per commit): p50 ${fmt(pct(upserts, 50))} p99 ${
      fmt(pct(upserts, 99))
    } rate ${(jobs / upsertSecs).toFixed(0)}/s`,
  );
  for (
    const [label, query] of [
      ["list page of 25", "_start=0&_end=25"],
      ["list page of 25, sorted by next DESC", "_start=100&_end=125&_sort=next&_order=DESC"],
      ["list page of 25, metadata filter", "metadata[team]=t3&_start=0&_end=25"],
    ] as const
  ) {
    const samples: number[] = [];
    for (let i = 0; i < 300; i++) {
      samples.push(
        await time(async () =>
          void (await (await fetch(`${agent.url}/v1/jobs?${query}`)).arrayBuffer())
        ),
      );
    }
    console.log(
      `${label} (${jobs} jobs): p50 ${fmt(pct(samples, 50))} p99 ${fmt(pct(samples, 99))}`,
    );
  }
} finally {
  await stopAgent(agent);
  rmSync(dir, { recursive: true, force: true });
}
