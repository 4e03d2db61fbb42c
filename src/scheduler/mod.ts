/**
 * scheduler: due slots → fire → launch, missed-run policies, overlap, retries, chains,
 * ephemeral jobs and leases. One timer per node over a keyed min-heap.
 */
export { KeyedHeap } from "./heap.ts";
export {
  type RunnerPort,
  Scheduler,
  type SchedulerDeps,
  type SchedulerMetrics,
} from "./scheduler.ts";
export { nextRunOf, nextRunsOf, retryDelayMs, scheduleOf } from "./slots.ts";
export {
  type CleanTags,
  cleanTags,
  defaultRegion,
  type NodeLoad,
  noTargetMessage,
  type NoTargetReason,
  qualifyingMembers,
  selectTargets,
  type TargetMember,
  type TargetQuery,
  type TargetResult,
} from "./targets.ts";
