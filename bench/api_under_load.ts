/**
 * The API while the scheduler is saturated (issue 14, item 13a). One node in its own process;
 * this script drives it over REST. For each N: N noop jobs `@every 1s` are created one by one
 * (so the earlier ones already fire while the later ones are created), then for --seconds the
 * jobs fire while a client keeps creating jobs one at a time. Printed side by side:
 *  - job-create latency p50/p99 (and 429s) while ramping up and in the steady state;
 *  - launches/s, missed slots and lateness p50/p99 (slot → executor start) in the same window,
 *    from /metrics (one read; reading every job's executions would load the node being measured).
 * Usage: bun bench/api_under_load.ts [--jobs 1000,3000] [--seconds 20]
 */
import { parseArgs } from "node:util";
import { type AgentProcess, withDevAgent } from "../test/support/proc.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000,3000" },
    seconds: { type: "string", default: "20" },
  },
});
const seconds = Number(values.seconds);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

const withAgent = <T>(fn: (a: AgentProcess) => Promise<T>) =>
  withDevAgent("tock-bench-load-", fn, 120_000);

/** Creates one job; returns its latency in ms, or the status when refused. */
async function create(a: AgentProcess, body: Record<string, unknown>): Promise<number | string> {
  const t = performance.now();
  const res = await fetch(`${a.url}/v1/jobs`, { method: "POST", body: JSON.stringify(body) });
  const took = performance.now() - t;
  await res.arrayBuffer();
  return res.status === 201 ? took : String(res.status);
}

async function metric(a: AgentProcess, name: string): Promise<number> {
  const text = await (await fetch(`${a.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

/** The node's lateness histogram summed over jobs: upper bound (s) -> cumulative count. */
async function histogram(a: AgentProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${a.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (
    const m of text.matchAll(/^tock_lateness_seconds_bucket\{job="[^"]*",le="([^"]+)"\} (\d+)$/gm)
  ) {
    out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
  }
  return out;
}

/** p50/p99 of the launches between two histogram reads, as "<= bucket bound". */
function latenessQuantiles(
  before: Map<string, number>,
  after: Map<string, number>,
): { p50: string; p99: string } {
  const bounds = [...after.keys()].sort((x, y) => Number(x) - Number(y)); // "+Inf" sorts last
  const delta = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = delta[delta.length - 1] ?? 0;
  const q = (p: number) => {
    const i = delta.findIndex((c) => c >= p * total);
    const b = bounds[i];
    return b === undefined || total === 0
      ? "n/a"
      : b === "+Inf"
      ? "> 60 s"
      : `<= ${Number(b) * 1000} ms`;
  };
  return { p50: q(0.5), p99: q(0.99) };
}

function summary(latencies: number[], refused: string[]): string {
  const by = new Map<string, number>();
  for (const r of refused) by.set(r, (by.get(r) ?? 0) + 1);
  const ref = [...by].map(([s, n]) => `${n}x${s}`).join(" ") || "none refused";
  return `${latencies.length} creates, p50 ${ms(pct(latencies, 50))} p99 ${
    ms(pct(latencies, 99))
  } (${ref})`;
}

for (const n of values.jobs.split(",").map(Number)) {
  await withAgent(async (a) => {
    const firing = (i: number) => ({
      name: `fire-${i}`,
      schedule: "@every 1s",
      executor: "noop",
      executor_config: {},
    });
    const rampLat: number[] = [];
    const rampRefused: string[] = [];
    const r0 = performance.now();
    for (let i = 0; i < n;) {
      const r = await create(a, firing(i));
      if (typeof r === "number") {
        rampLat.push(r);
        i++;
      } else rampRefused.push(r);
    }
    const rampS = (performance.now() - r0) / 1000;
    console.log(
      `${n} jobs created one by one while firing: ${(n / rampS).toFixed(0)} jobs/s; ${
        summary(rampLat, rampRefused)
      }`,
    );

    // Steady state: every job fires each second while a client keeps creating jobs.
    const h0 = await histogram(a);
    const l0 = await metric(a, "tock_launches_total");
    const m0 = await metric(a, "tock_missed_total");
    const t0 = Date.now();
    const lat: number[] = [];
    const refused: string[] = [];
    for (let i = 0; Date.now() - t0 < seconds * 1000; i++) {
      const r = await create(a, {
        name: `probe-${i}`,
        schedule: "@manually",
        executor: "noop",
        executor_config: {},
      });
      if (typeof r === "number") lat.push(r);
      else refused.push(r);
    }
    const tEnd = Date.now();
    const elapsed = (tEnd - t0) / 1000;
    const launches = (await metric(a, "tock_launches_total")) - l0;
    const missedTotal = (await metric(a, "tock_missed_total")) - m0;
    const lateness = latenessQuantiles(h0, await histogram(a));
    console.log(
      `${n} jobs @every 1s for ${elapsed.toFixed(0)} s: job create ${summary(lat, refused)}; ` +
        `launches ${(launches / elapsed).toFixed(0)}/s (of ${n}/s), missed ${missedTotal}, ` +
        `lateness p50 ${lateness.p50} p99 ${lateness.p99} (histogram bucket bounds)`,
    );
  });
}
