/**
 * Web UI figures in headless Chromium against a real node (source, or --binary dist/tock):
 *  - page weight: bytes the browser transferred (compressed) for a cold load of /ui/, split
 *    into the initial load and the lazy chunks a job page adds (charts);
 *  - time to first useful paint of the jobs table and the dashboard with N jobs defined:
 *    navigation start → the first job row (or the dashboard's tiles) in the DOM, cold cache,
 *    plus Chromium's first-contentful-paint; p50 / p99 over --runs fresh browser contexts;
 *  - ListJobs (page of 25, sorted by name) and GetUpcoming (24 h) latency at N jobs.
 * Jobs are loaded with POST /v1/restore in batches. Prints figures only; asserts nothing.
 * Usage: bun bench/ui.ts [--jobs 10000,100000] [--runs 10] [--binary dist/tock]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { launchChromium } from "../test/support/browser.ts";
import { devAgentArgs, repoRoot, startAgent, stopAgent } from "../test/support/proc.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000,100000" },
    runs: { type: "string", default: "10" },
    binary: { type: "string", default: "" },
  },
});
const sizes = values.jobs.split(",").map(Number);
const runs = Number(values.runs);
const command = values.binary === "" ? undefined : [resolve(repoRoot, values.binary)];
/** Jobs per restore request: well under the 32 MiB restore body limit. */
const restoreBatch = 20_000;

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? NaN;
}
const ms = (v: number) => `${v.toFixed(0)} ms`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

async function restore(base: string, from: number, to: number): Promise<void> {
  const jobs = [];
  for (let i = from; i < to; i++) {
    jobs.push({
      name: `job-${String(i).padStart(6, "0")}`,
      displayname: `Job number ${i}`,
      schedule: i % 3 === 0 ? "@manually" : `0 ${i % 60} ${i % 24} * * *`,
      executor: "shell",
      executor_config: { command: "true" },
      owner: `team-${i % 20}`,
      tags: { tier: i % 2 === 0 ? "a" : "b" },
    });
  }
  const form = new FormData();
  form.set("file", new Blob([JSON.stringify(jobs)]), "jobs.json");
  const res = await fetch(`${base}/v1/restore`, { method: "POST", body: form });
  if (res.status !== 200) throw new Error(`restore: HTTP ${res.status} ${await res.text()}`);
}

const browser = await launchChromium();

interface Load {
  useful: number;
  fcp: number;
  transferred: number;
  files: number;
}

/** One cold load of `hash`: time until `selector` exists, and what was transferred. */
async function coldLoad(base: string, hash: string, selector: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript((sel: string) => {
    const w = window as unknown as { tockUseful?: number };
    const seen = () => {
      if (w.tockUseful === undefined && document.querySelector(sel) !== null) {
        w.tockUseful = performance.now();
      }
    };
    new MutationObserver(seen).observe(document, { childList: true, subtree: true });
  }, selector);
  await page.goto(`${base}/ui/${hash}`);
  await page.waitForFunction(() => (window as { tockUseful?: number }).tockUseful !== undefined, {
    timeout: 60_000,
  });
  const figures = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    const res = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN;
    const ui = res.filter((r) => r.name.includes("/ui/"));
    return {
      useful: (window as { tockUseful?: number }).tockUseful as number,
      fcp,
      transferred: nav.transferSize + ui.reduce((s, r) => s + r.transferSize, 0),
      files: 1 + ui.length,
    };
  });
  await context.close();
  return figures;
}

const dir = mkdtempSync(join(tmpdir(), "tock-bench-ui-"));
const agent = await startAgent(devAgentArgs(join(dir, "data")), {
  ...(command ? { command } : {}),
  timeoutMs: 60_000,
});
try {
  console.log(`bench/ui: server ${command ? values.binary : "source"}; load average ${load()}`);
  // Page weight: the initial load (jobs table), and what a job page adds lazily (uPlot).
  const first = await coldLoad(agent.url, "#/jobs", "#jobs-body tr");
  console.log(
    `page weight, initial load: ${
      (first.transferred / 1024).toFixed(1)
    } KiB over ${first.files} files (compressed, as transferred)`,
  );
  let defined = 0;
  for (const n of sizes) {
    const t0 = performance.now();
    for (let at = defined; at < n; at += restoreBatch) {
      await restore(agent.url, at, Math.min(n, at + restoreBatch));
    }
    defined = Math.max(defined, n);
    console.log(
      `\n${n} jobs defined (restore took ${ms(performance.now() - t0)}); load average ${load()}`,
    );
    const api: number[] = [];
    for (let i = 0; i < runs; i++) {
      const a = performance.now();
      const res = await fetch(`${agent.url}/tock.v1.JobService/ListJobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ start: 0, end: 25, sort: "name", recent_runs: 12 }),
      });
      await res.arrayBuffer();
      api.push(performance.now() - a);
    }
    console.log(`  ListJobs page of 25:      p50 ${ms(pct(api, 0.5))}  p99 ${ms(pct(api, 0.99))}`);
    const upcoming: number[] = [];
    let truncated = false;
    for (let i = 0; i < Math.min(runs, 5); i++) {
      const a = performance.now();
      const res = await fetch(`${agent.url}/tock.v1.JobService/GetUpcoming`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ hours: 24, bucket_minutes: 15, limit: 100 }),
      });
      truncated = ((await res.json()) as { truncated?: boolean }).truncated === true;
      upcoming.push(performance.now() - a);
    }
    console.log(
      `  GetUpcoming 24 h:         p50 ${ms(pct(upcoming, 0.5))}  p99 ${ms(pct(upcoming, 0.99))}${
        truncated ? " (truncated at the slot budget)" : ""
      }`,
    );
    for (
      const [label, hash, sel] of [
        ["jobs table", "#/jobs", "#jobs-body tr[data-job]"],
        ["dashboard", "#/", "#activity .tile"],
      ] as const
    ) {
      const useful: number[] = [], fcp: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const r = await coldLoad(agent.url, hash, sel);
        useful.push(r.useful);
        fcp.push(r.fcp);
        bytes = r.transferred;
      }
      console.log(
        `  ${label.padEnd(10)} first useful paint p50 ${ms(pct(useful, 0.5))}  p99 ${
          ms(pct(useful, 0.99))
        }` +
          `  (FCP p50 ${ms(pct(fcp, 0.5))}; ${(bytes / 1024).toFixed(1)} KiB transferred)`,
      );
    }
  }
  console.log(`\nload average at the end ${load()}`);
} finally {
  await browser.close();
  await stopAgent(agent);
  rmSync(dir, { recursive: true, force: true });
}
