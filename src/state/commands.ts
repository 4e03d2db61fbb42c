/**
 * Replicated commands: the only way shared state changes. Each carries every value apply()
 * needs (times, computed `next`) so that applying is deterministic on every replica.
 */
import type { AclCommand } from "./acl.ts";
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
  /**
   * A scheduled slot (or a batch of missed ones) is decided: records the executions (running or
   * missed), advances the job's fired_through watermark to `slot` and its `next`. Refused when
   * `slot` is not after the watermark, so a slot can never fire twice.
   */
  | { type: "fire"; job: string; slot: number; next: number | null; executions: Execution[] }
  /** Extends a running execution's lease; refused once it is no longer running. */
  | { type: "execution.renew"; job: string; id: string; leaseUntil: number }
  /** Delete every execution of a job and reset its counters (DELETE /v1/jobs/:job/executions). */
  | { type: "executions.clear"; job: string }
  /** ACL tokens, policies and audit entries (acl.ts). */
  | AclCommand;

export type CommandType = Command["type"];
