/**
 * What the API needs from the node, passed in as ports (never a whole node object). REST and
 * Connect handlers both use this and nothing else.
 */
import type { KeyringPort } from "./keyring_routes.ts";
import type { ApiExecution, Command, Execution, ExecutorCheck, Job } from "../state/mod.ts";

/** A gossip member in Dkron's /v1/members shape. */
export interface Member {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  /** 0 none, 1 alive, 2 leaving, 3 left, 4 failed (Serf's numbering). */
  Status: number;
}

/** A Raft server as `tock raft list-peers` shows it. */
export interface RaftPeer {
  id: string;
  name: string;
  address: string;
  voter: boolean;
  leader: boolean;
  match: number;
}

/** The cluster layer's operations (absent on nodes without one). */
export interface ClusterPort {
  /** The raft section of GET /v1 (role, term, leader, indexes, configuration). */
  raft(): Record<string, unknown>;
  /** The serf section of GET /v1 (Dkron's key names: members, failed, left, encrypted, ...). */
  serf(): Record<string, string>;
  /** Readiness for load balancers: a leader is known and this server has caught up. */
  ready(): { ready: boolean; reason: string };
  peers(): RaftPeer[];
  /** Removes a server from the Raft configuration (on the leader). */
  removePeer(id: string): Promise<void>;
  /** Hands leadership to `to` (or the best other voter when ""); resolves with the new leader. */
  transferLeader(to: string): Promise<string>;
  /** Graceful leave: hand off leadership, announce "left"; answers the members as they were. */
  leave(): Promise<Member[]>;
}

/**
 * The cluster as this node sees it, for ClusterService.GetCluster (the dashboard). A single
 * node reports itself as the only member and the leader. Raft fields are 0 / "" when unknown.
 */
export interface ClusterView {
  /** Name of the Raft leader; "" while there is none. */
  leader: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: ClusterMemberView[];
}

export interface ClusterMemberView {
  name: string;
  /** host:port of the member's HTTP API. */
  addr: string;
  /** "server" votes in Raft; "agent" only runs jobs. */
  role: "server" | "agent";
  /** "leader" | "follower" | "candidate" | "learner", or "" when not in the Raft group. */
  raftState: string;
  /** "alive" | "suspect" | "dead" | "left". */
  gossipState: string;
  tags: Record<string, string>;
}

/** Executions by slot since an instant (the dashboard's "last hour"), from the state store. */
export interface ActivityView {
  /** Executions whose slot is at or after `sinceMs`, by status (running, success, failed...). */
  byStatus: Record<string, number>;
  /** Launched ones (any status but missed) whose slot is at or after `recentSinceMs`. */
  recent: number;
  /** Slot-to-start lateness percentiles (ms) of the started ones; null when none started. */
  latenessP50Ms: number | null;
  latenessP99Ms: number | null;
}

export interface ApiDeps {
  nodeName: string;
  version: string;
  /** Node tags, shown in GET /v1. */
  tags: Record<string, string>;
  nowMs(): number;
  /** The one door for writes: resolves with apply()'s result once applied, throws TockError. */
  propose(cmd: Command): Promise<{ job?: Job; execution?: Execution }>;
  /** Read-only state. */
  getJob(name: string): Job | undefined;
  allJobs(): Iterable<Job>;
  /** Every job in name order (the store keeps the order; lists sorted by name skip a sort). */
  jobsByName(): readonly Job[];
  executionsOf(job: string): Execution[];
  runningExecutions(): Execution[];
  /** Full output of an execution if this node has it (else undefined: use the summary tail). */
  executionOutput(job: string, id: string): string | undefined;
  /**
   * Streams an execution's output: what exists so far, then live chunks until it finishes or
   * `signal` aborts. Ends immediately for a finished execution after sending its stored output.
   */
  watchOutput(job: string, id: string, signal: AbortSignal): AsyncIterable<Uint8Array>;
  /** Validates an executor name and config (unknown executors are rejected at create time). */
  checkExecutor: ExecutorCheck;
  /** The job's next slot after `afterMs` per its schedule, or null (manual, child, ended). */
  nextRun(job: Job, afterMs: number): number | null;
  /** The next `n` slots of a job after `afterMs`. */
  nextRuns(job: Job, afterMs: number, n: number): number[];
  /**
   * Starts a run of the job now (asynchronously) and returns the started execution. Obeys the
   * job's concurrency policy (forbid refuses while it runs) unless `force`.
   */
  runJob(name: string, force?: boolean): Promise<Execution>;
  /** Kills a running execution (its whole process group); resolves once it has finished. */
  killExecution(job: string, id: string): Promise<void>;
  members(): Member[];
  leader(): Member | undefined;
  isLeader(): boolean;
  /**
   * Registers `listener` to run after every command applied to the replicated state (once, at
   * start-up; the API fans it out to WatchChanges streams). It must return quickly.
   */
  onStateChange(listener: () => void): void;
  /** Leader, members and their Raft/gossip states (ClusterService). */
  cluster(): ClusterView;
  /** Execution counts and lateness by slot: at/after `sinceMs`, and how many at/after `recentSinceMs`. */
  activity(sinceMs: number, recentSinceMs: number): ActivityView;
  /** Prometheus text for /metrics. */
  metricsText(): string;
  clusterOps?: ClusterPort;
  /** Cluster-wide gossip keyring operations; undefined (or answering undefined) without --encrypt. */
  keyring?: () => KeyringPort | undefined;
}

export type { ApiExecution };
