/**
 * Plain, serialisable data of the Raft core: log entries, hard state, snapshots, cluster
 * configurations and the messages peers exchange. No classes, no back-pointers: the shell and
 * the simulator copy these freely and the transport maps them to protobuf.
 */

/** A server's stable identity (e.g. "n1"). The empty string means "none" (no vote, no leader). */
export type NodeId = string;

/** "normal" carries an application command; "config" a ClusterConfig; "noop" a new leader's marker. */
export type EntryType = "normal" | "config" | "noop";

/** One log entry. `data` is opaque to Raft except for config entries (see encodeConfig). */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** Who votes and who only receives the log. A node is in at most one of the two lists. */
export interface ClusterConfig {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** What must survive a crash before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or "" for none. */
  readonly vote: NodeId;
  readonly commit: number;
}

export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  readonly term: number;
  /** The configuration in force at `index`. */
  readonly config: ClusterConfig;
}

/** A state-machine snapshot; `data` is produced and restored by the application. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** A (pre-)vote request. `transfer` is set when the campaign follows a TimeoutNow. */
export interface VoteRequest {
  readonly type: "preVote" | "vote";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly transfer: boolean;
}

export interface VoteResponse {
  readonly type: "preVoteResp" | "voteResp";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly reject: boolean;
}

/** AppendEntries. `commit` never exceeds what the receiver will hold after appending. */
export interface AppendRequest {
  readonly type: "app";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /**
   * The leader's replication session with this follower (a fresh one each time its progress is
   * created); answers echo it so replies from an earlier session are ignored (raft-rs #571).
   */
  readonly session: number;
}

/**
 * Answer to "app" or "snap". On success `index` is the receiver's last index known to match the
 * leader; on rejection `index` is the rejected prevIndex and `hint` the receiver's last index.
 */
export interface AppendResponse {
  readonly type: "appResp";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly index: number;
  readonly reject: boolean;
  readonly hint: number;
  /**
   * The leader's replication session with this follower (a fresh one each time its progress is
   * created); answers echo it so replies from an earlier session are ignored (raft-rs #571).
   */
  readonly session: number;
}

/** Heartbeat. `ctx` is the newest pending ReadIndex context ("" when none). */
export interface Heartbeat {
  readonly type: "heartbeat";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly commit: number;
  readonly ctx: string;
  /**
   * The leader's replication session with this follower (a fresh one each time its progress is
   * created); answers echo it so replies from an earlier session are ignored (raft-rs #571).
   */
  readonly session: number;
}

export interface HeartbeatResponse {
  readonly type: "heartbeatResp";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly ctx: string;
  /**
   * The leader's replication session with this follower (a fresh one each time its progress is
   * created); answers echo it so replies from an earlier session are ignored (raft-rs #571).
   */
  readonly session: number;
}

/** InstallSnapshot. The transport splits `snapshot.data` into bounded chunks on the wire. */
export interface SnapshotRequest {
  readonly type: "snap";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly snapshot: Snapshot;
  /**
   * The leader's replication session with this follower (a fresh one each time its progress is
   * created); answers echo it so replies from an earlier session are ignored (raft-rs #571).
   */
  readonly session: number;
}

/** Leadership transfer: the receiver campaigns at once, bypassing PreVote and leases. */
export interface TimeoutNow {
  readonly type: "timeoutNow";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** A follower asks the leader for a linearizable read index on behalf of `ctx`. */
export interface ReadIndexRequest {
  readonly type: "readIndex";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly ctx: string;
}

export interface ReadIndexResponse {
  readonly type: "readIndexResp";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly ctx: string;
  readonly index: number;
}

/** Every message between Raft peers (a tagged union on `type`). */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message["type"];

/** A confirmed linearizable read: once applied ≥ index, reading local state is linearizable. */
export interface ReadState {
  readonly ctx: string;
  readonly index: number;
}

/** A single-server configuration change. */
export type ConfChange =
  | { readonly type: "addLearner"; readonly node: NodeId }
  /** Adds `node` as a learner and promotes it once caught up; promotes an existing learner. */
  | { readonly type: "addVoter"; readonly node: NodeId }
  | { readonly type: "remove"; readonly node: NodeId };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a configuration as a config entry's payload (canonical: sorted JSON). */
export function encodeConfig(config: ClusterConfig): Uint8Array {
  const voters = [...config.voters].sort();
  const learners = [...config.learners].sort();
  return encoder.encode(JSON.stringify({ voters, learners }));
}

/** Decodes a config entry's payload; throws on malformed input. */
export function decodeConfig(data: Uint8Array): ClusterConfig {
  const v = JSON.parse(decoder.decode(data)) as { voters?: unknown; learners?: unknown };
  if (!Array.isArray(v.voters) || !Array.isArray(v.learners)) {
    throw new Error(`malformed config entry: ${decoder.decode(data)}`);
  }
  return { voters: v.voters.map(String), learners: v.learners.map(String) };
}

export const emptyConfig: ClusterConfig = { voters: [], learners: [] };
export const emptyHardState: HardState = { term: 0, vote: "", commit: 0 };
