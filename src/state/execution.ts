/**
 * Execution summaries: what the replicated state keeps of a run. Full output lives in the local
 * output store of the node that ran it; the summary keeps a short tail and the size.
 */
import { rfc3339, zeroTime } from "../lib/mod.ts";

export type ExecutionStatus = "running" | "success" | "failed" | "missed" | "lost";

export interface Execution {
  /** `<group>-<attempt>`: derived from (slot, attempt), so one slot can never launch twice. */
  id: string;
  job_name: string;
  /** Scheduled slot (or trigger instant for manual runs) in epoch ms; Dkron's `group` is in ns. */
  group: number;
  attempt: number;
  status: ExecutionStatus;
  started_at: number | null;
  finished_at: number | null;
  success: boolean;
  node_name: string;
  exit_code: number | null;
  /** Bytes of output produced (the stored copy may be capped). */
  output_size: number;
  /** The last bytes of output (limits.outputTailBytesMax), or the whole output when small. */
  output_tail: string;
  /** Why a run is `missed`, `lost` or failed before starting; "" otherwise. */
  reason: string;
  /** While running: epoch ms when the lease lapses unless renewed; then the run is `lost`. */
  lease_until: number | null;
}

/** The JSON shape of an execution on the Dkron-compatible API (+ Tock's extra fields). */
export interface ApiExecution {
  id: string;
  job_name: string;
  started_at: string;
  finished_at: string;
  success: boolean;
  output: string;
  node_name: string;
  group: number;
  attempt: number;
  output_truncated?: boolean;
  status: ExecutionStatus;
  exit_code: number | null;
  output_size: number;
  reason: string;
}

export function executionId(groupMs: number, attempt: number): string {
  return `${groupMs}-${attempt}`;
}

/** The finished record of a run that can no longer be running (lease lapsed, node restarted). */
export function lostExecution(e: Execution, nowMs: number, reason: string): Execution {
  return { ...e, status: "lost", success: false, finished_at: nowMs, lease_until: null, reason };
}

/** Renders an execution; `output` is the full output when the caller has it, else the tail. */
export function toApiExecution(e: Execution, output: string = e.output_tail): ApiExecution {
  return {
    id: e.id,
    job_name: e.job_name,
    started_at: e.started_at === null ? zeroTime : rfc3339(e.started_at),
    finished_at: e.finished_at === null ? zeroTime : rfc3339(e.finished_at),
    success: e.success,
    output,
    node_name: e.node_name,
    group: e.group * 1_000_000,
    attempt: e.attempt,
    status: e.status,
    exit_code: e.exit_code,
    output_size: e.output_size,
    reason: e.reason,
  };
}
