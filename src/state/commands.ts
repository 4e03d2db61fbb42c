/**
 * Replicated commands: the only way shared state changes. Each carries every value apply()
 * needs (times, computed `next`) so that applying is deterministic on every replica.
 */
import type { Execution } from "./execution.ts";
import type { Job } from "./job.ts";

export type Command =
  /** Create or replace a job definition (runtime fields merged as Dkron's SetJob does). */
  | { type: "job.upsert"; job: Job }
  | { type: "job.delete"; name: string }
  /** Flip `disabled`; `next` is the proposer's computation for the enabled state. */
  | { type: "job.toggle"; name: string; next: number | null }
  /** Record a running execution (or a missed/lost one with no run). */
  | { type: "execution.start"; execution: Execution }
  /** Record a finished execution and update the job's counters and status. */
  | { type: "execution.finish"; execution: Execution }
  /** Delete every execution of a job and reset its counters (DELETE /v1/jobs/:job/executions). */
  | { type: "executions.clear"; job: string };

export type CommandType = Command["type"];
