/** Prometheus metrics of this node, rendered as text exposition for /metrics. */
import type { Execution } from "../state/mod.ts";

/** Lateness buckets in seconds (scheduled slot → executor start). */
const latenessBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Escapes a label value per the exposition format. */
const label = (v: string) =>
  v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

export class Metrics {
  #launches = 0;
  #successes = 0;
  #failures = 0;
  #missed = 0;
  #lost = 0;
  #fireFailures = 0;
  #lateness = new Map<string, Histogram>();

  started(): void {
    this.#launches++;
  }

  finished(_job: string, e: Execution): void {
    if (e.success) this.#successes++;
    else this.#failures++;
  }

  launched(job: string, latenessMs: number | null): void {
    if (latenessMs === null) return;
    let h = this.#lateness.get(job);
    if (!h) this.#lateness.set(job, h = { counts: latenessBuckets.map(() => 0), sum: 0, count: 0 });
    const s = Math.max(0, latenessMs) / 1000;
    latenessBuckets.forEach((b, i) => {
      if (s <= b) (h as Histogram).counts[i]!++;
    });
    h.sum += s;
    h.count++;
  }

  missed(_job: string, count: number): void {
    this.#missed += count;
  }

  lost(_job: string): void {
    this.#lost++;
  }

  fireFailed(_job: string): void {
    this.#fireFailures++;
  }

  text(g: { jobs: number; running: number; queue: number }): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, value: number) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    metric("tock_launches_total", "counter", "Executions launched on this node.", this.#launches);
    metric(
      "tock_successes_total",
      "counter",
      "Executions that succeeded on this node.",
      this.#successes,
    );
    metric(
      "tock_failures_total",
      "counter",
      "Executions that failed on this node (lost included).",
      this.#failures,
    );
    metric(
      "tock_missed_total",
      "counter",
      "Slots recorded as missed (misfire policy, forbid overlap).",
      this.#missed,
    );
    metric(
      "tock_lost_total",
      "counter",
      "Executions declared lost (lease lapsed or node restarted).",
      this.#lost,
    );
    metric(
      "tock_fire_failures_total",
      "counter",
      "Scheduled fires that could not be recorded (tried again with backoff).",
      this.#fireFailures,
    );
    metric("tock_running", "gauge", "Executions running on this node now.", g.running);
    metric("tock_jobs", "gauge", "Jobs defined.", g.jobs);
    metric(
      "tock_scheduler_queue",
      "gauge",
      "Entries in the scheduler heap (job slots, retries, sweeps).",
      g.queue,
    );
    out.push(
      "# HELP tock_lateness_seconds Scheduled slot to executor start.",
      "# TYPE tock_lateness_seconds histogram",
    );
    for (const [job, h] of this.#lateness) {
      const j = label(job);
      latenessBuckets.forEach((b, i) =>
        out.push(`tock_lateness_seconds_bucket{job="${j}",le="${b}"} ${h.counts[i]}`)
      );
      out.push(`tock_lateness_seconds_bucket{job="${j}",le="+Inf"} ${h.count}`);
      out.push(`tock_lateness_seconds_sum{job="${j}"} ${h.sum}`);
      out.push(`tock_lateness_seconds_count{job="${j}"} ${h.count}`);
    }
    return out.join("\n") + "\n";
  }
}
