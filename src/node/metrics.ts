/** Prometheus counters of this node, rendered as text exposition for /metrics. */
import type { Execution } from "../state/mod.ts";

export class Metrics {
  #started = 0;
  #succeeded = 0;
  #failed = 0;

  started(): void {
    this.#started++;
  }

  finished(e: Execution): void {
    if (e.success) this.#succeeded++;
    else this.#failed++;
  }

  text(gauges: { jobs: number; running: number }): string {
    const lines = [
      "# HELP tock_executions_started_total Executions started on this node.",
      "# TYPE tock_executions_started_total counter",
      `tock_executions_started_total ${this.#started}`,
      "# HELP tock_executions_succeeded_total Executions that finished successfully on this node.",
      "# TYPE tock_executions_succeeded_total counter",
      `tock_executions_succeeded_total ${this.#succeeded}`,
      "# HELP tock_executions_failed_total Executions that failed on this node.",
      "# TYPE tock_executions_failed_total counter",
      `tock_executions_failed_total ${this.#failed}`,
      "# HELP tock_executions_running Executions running on this node now.",
      "# TYPE tock_executions_running gauge",
      `tock_executions_running ${gauges.running}`,
      "# HELP tock_jobs Jobs defined in the cluster.",
      "# TYPE tock_jobs gauge",
      `tock_jobs ${gauges.jobs}`,
    ];
    return lines.join("\n") + "\n";
  }
}
