/** dispatch: pure decision cores for running executions on workers (see the API below). */
export { launchKey, parseExecutionId, splitLaunchKey, targetExecutionId } from "./ids.ts";
export type { ParsedExecutionId } from "./ids.ts";
export { WorkerFence } from "./fence.ts";
export type {
  FenceCounters,
  FenceSnapshot,
  FenceWrite,
  Launch,
  LaunchDecision,
  Position,
} from "./fence.ts";
export { LeaseTable } from "./leases.ts";
export type {
  HeartbeatReply,
  LeaseEntry,
  LeaseOptions,
  LostDecision,
  RunningRef,
} from "./leases.ts";
export { FinishOutbox, finishOutcome, orphanReports } from "./outbox.ts";
export type {
  FinishOutcome,
  FinishReport,
  OutboxCounters,
  OutboxEntry,
  OutboxWrite,
} from "./outbox.ts";
