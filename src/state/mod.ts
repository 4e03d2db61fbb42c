/**
 * state: the replicated state machine. Commands are a tagged union; apply() is pure and
 * deterministic over the StateStore port; the job model parses and validates untrusted input.
 */
export {
  type AclCommand,
  aclCommandTypes,
  type AclStore,
  applyAcl,
  MemoryAclStore,
} from "./acl.ts";
export { apply, type ApplyResult } from "./apply.ts";
export type { Command, CommandType } from "./commands.ts";
export {
  type ApiExecution,
  type Execution,
  executionId,
  type ExecutionStatus,
  lostExecution,
  toApiExecution,
} from "./execution.ts";
export {
  type ApiJob,
  concurrencyPolicies,
  type ExecutorCheck,
  type Job,
  parseJobBody,
  type StringMap,
  timezoneExists,
  toApiJob,
  validateJob,
} from "./job.ts";
export { type JobQuery, queryJobs, sortableJobFields } from "./query.ts";
export { MemoryStateStore, type StateStore } from "./store_port.ts";
