/**
 * raft: a pure Raft consensus core (etcd-io/raft style) for the cluster layer.
 *
 * How to drive it (the shell owns all IO and time):
 *   1. Build a node from its durable state: `new Raft(config, restoreState)`. A brand-new
 *      member of the initial cluster starts from `bootstrapState(config)` persisted first; a node
 *      that will be added later starts from an empty state (it learns the config from the leader).
 *   2. Feed inputs: `tick()` every heartbeat-tick of wall time, `step(msg)` for each message from a
 *      peer, `propose(data)`, `proposeConfChange(cc)`, `readIndex(ctx)`, `transferLeadership(id)`,
 *      `compact(index, snapshotData)` after taking an application snapshot.
 *   3. While `hasReady()`: `const rd = ready()`, then in this order
 *        persist rd.snapshot / rd.compaction / rd.entries / rd.hardState (one fsync'd batch),
 *        send rd.messages, install rd.snapshot into the app and apply rd.committed in order,
 *        hand rd.readStates to waiting readers (serve each once applied ≥ its index),
 *      then `advance()`. Never send a message before the batch it came with is durable.
 *   4. A proposal is done when an entry with the returned (index, term) is applied. If the entry
 *      applied at that index has another term, the proposal was lost (retry with the same
 *      idempotency key). Leadership changes are visible as rd.role / rd.leader.
 *   5. Membership: one change at a time, effective on every server as soon as it is appended.
 *      `proposeConfChange({type: "addVoter", node})` adds an unknown node as a learner and the
 *      leader promotes it once its match index reaches the commit index; "addLearner" keeps it a
 *      non-voter; "remove" (a removed leader steps down once the removal commits). Votes from
 *      non-members are refused without raising the term.
 *   6. Reads: `readIndex(ctx)` on any node; the leader confirms leadership with a heartbeat
 *      quorum first. Serve the read once applied ≥ ReadState.index. Lost requests are not
 *      retried by the core: time them out in the shell.
 *   7. `forgetLeader()` drops a follower's leader lease when the shell knows the leader is gone;
 *      `status()`, `termAt(i)` and `entries(lo, hi)` are read-only views for shells and checkers.
 * Time is ticks; randomness is the Prng passed in; nothing here awaits or does IO.
 * Deliberately broken variants (`RaftConfig.broken`) exist only for the simulator's self-tests.
 */
export {
  type BrokenVariant,
  type ProposeResult,
  Raft,
  type RaftConfig,
  type Ready,
  type RestoreState,
  type Status,
} from "./raft.ts";
export {
  type AppendRequest,
  type AppendResponse,
  type ClusterConfig,
  type ConfChange,
  decodeConfig,
  emptyConfig,
  emptyHardState,
  encodeConfig,
  type Entry,
  type EntryType,
  type HardState,
  type Heartbeat,
  type HeartbeatResponse,
  type Message,
  type MessageType,
  type NodeId,
  type ReadIndexRequest,
  type ReadIndexResponse,
  type ReadState,
  type Role,
  type Snapshot,
  type SnapshotMeta,
  type SnapshotRequest,
  type TimeoutNow,
  type VoteRequest,
  type VoteResponse,
} from "./types.ts";
export { bootstrapState, describeEntry, describeMessage } from "./_harness.ts";
