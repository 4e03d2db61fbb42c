/**
 * dispatch: the pure decision cores of running executions on workers (issue 9). No IO, no
 * clock, no randomness: the node shell passes times in, persists what a decision returns, and
 * does the sending. Target selection itself is in scheduler/ (`selectTargets`).
 *
 * How the shell uses it (leader L of term T, worker W):
 *
 * ```ts
 * // Leader, per due slot: pick targets, commit one execution per target, then launch.
 * const r = selectTargets({ jobName, tags: job.tags, members, region, load, prng });
 * //   !r.ok → record the slot `missed` with r.message (manual run: 404 noTargetMessage()).
 * const ids = r.nodes.map((n) => targetExecutionId(slot, attempt, n)); // "<slot>-<attempt>-<node>"
 * //   propose fire{..., executions with those ids, node_name = n}; once applied, for each:
 * leases.grant({ job, executionId: id, node }, monoNowMs);
 * //   send Launch { term: T, seq: ++leaderSeq, job, executionId: id } on W's session.
 *
 * // Worker, on a Launch (and on session open: fence.observeTerm(T) → persist if true):
 * const d = fence.admit(launch);
 * //   "accept": persist d.write (highest term, floor, add, forget) THEN start the executor.
 * //   "stale_term" / "too_old" / "duplicate" / "window_full" / "invalid": do not run; answer
 * //   the refusal; persist the term when d.termRaised. Count fence.counters in /metrics
 * //   (tock_fenced_total = counters.fenced; duplicates = counters.duplicates).
 * //   A "duplicate" of an id neither running nor in the outbox needs nothing: the worker's
 * //   orphan report (below) is already on its way.
 *
 * // Worker, when a run ends (or after a restart for each orphanReports(...) entry):
 * outbox.enqueue(report);                // persist .write before anything else
 * for (const e of outbox.due(sessionNo, monoNowMs)) send(e.report); // each tick / new session
 * //   on the leader's answer (any final outcome): persist outbox.applied(key); fence.settle(key,
 * //   { term, seq } of that answer).
 *
 * // Worker heartbeat every limits.leaseRenewMs: held = running keys ∪ outbox.keys().
 * // Leader:
 * const reply = leases.heartbeat(node, held, monoNowMs, (key) => recordOf(key)); // {status, node}
 * //   reply.stop → send Stop { term: T, key } (worker: if fence.obeysStop(term) kill + report
 * //   it as lost); reply.redispatch → send the same Launch again (new seq).
 *
 * // Leader, on an applied finish report: apply() calls finishOutcome(existing, report):
 * //   "apply" → write outcome.execution (+ job counters); every other kind is a no-op; answer
 * //   the worker in all cases (it drops the entry). Then leases.settled(key).
 * // Leader sweep (limits.leaseSweepMs) and gossip "failed" events:
 * for (const d of [...leases.expired(monoNowMs), ...leases.nodeDead(node)]) {
 *   // propose the finish of a FinishReport { status: "lost", reason: d.reason, node: d.node }
 *   // on success: leases.settled(d.key); on failure: leases.lostNotRecorded(d.key).
 * }
 * // New leader, once its election's no-op entry is applied:
 * leases = LeaseTable.afterElection(runningFromAppliedState, monoNowMs);
 * ```
 *
 * Guarantees these cores give (test/dispatch_model_test.ts checks them over seeds): at most
 * one accepted launch per execution id; no launch from an older term accepted once a newer
 * one was seen; every finish reaches a leader and each execution becomes final exactly once;
 * a final record never changes (never both finished and lost); a lease lapses only after a
 * full lease with no launch, election or heartbeat listing it.
 */
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
