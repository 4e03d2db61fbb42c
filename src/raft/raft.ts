/**
 * The pure Raft core, in the etcd-io/raft style: a synchronous state machine driven by
 * step(message), tick(), propose(), readIndex(), proposeConfChange() and transferLeadership().
 * Everything it wants done comes out of ready() as data; the shell persists, sends, applies and
 * then calls advance(). No clock, no randomness except the Prng passed in, no IO, no await.
 */
import { assert, assertNever, limits, type Prng } from "../lib/mod.ts";
import { RaftLog } from "./_log.ts";
import {
  type ClusterConfig,
  type ConfChange,
  emptyHardState,
  encodeConfig,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
  type VoteRequest,
} from "./types.ts";

/**
 * Deliberately broken variants, used only by tests to prove the checkers catch them. Never set
 * in production code.
 */
export interface BrokenVariant {
  /** Grant votes without the "candidate's log is at least as up to date" check. */
  voteWithoutLogCheck?: boolean;
  /** Commit by counting replicas of an entry of any term (violates the Figure 8 rule). */
  commitOldTermByCounting?: boolean;
}

export interface RaftConfig {
  /** This server's id. */
  readonly id: NodeId;
  /** Base election timeout in ticks; each timeout is drawn from [base, 2 × base). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be < electionTicks. */
  readonly heartbeatTicks: number;
  /** Seeded randomness for election timeouts. */
  readonly prng: Prng;
  /** Run a PreVote round before raising the term (default true). */
  readonly preVote?: boolean;
  /** Leader steps down without quorum contact; followers honour a leader lease (default true). */
  readonly checkQuorum?: boolean;
  /** AppendEntries messages in flight per follower in replicate state. */
  readonly maxInflightMsgs?: number;
  /** Entries per AppendEntries message. */
  readonly maxEntriesPerMsg?: number;
  /** Payload bytes per AppendEntries message (at least one entry is always sent). */
  readonly maxBytesPerMsg?: number;
  /** Uncommitted entries a leader accepts before refusing proposals. */
  readonly maxUncommittedEntries?: number;
  /** Entries handed out for applying per Ready. */
  readonly maxCommittedPerReady?: number;
  /** Entries kept behind a snapshot when compacting, so briefly absent followers need no snapshot. */
  readonly trailingEntries?: number;
  /** Heartbeat rounds a follower stays in snapshot state before the snapshot is re-sent. */
  readonly snapshotRetryHeartbeats?: number;
  readonly broken?: BrokenVariant;
}

/** Durable state a node restarts from (exactly what the store holds). */
export interface RestoreState {
  readonly hardState: HardState;
  readonly snapshot?: Snapshot | undefined;
  /** Log entries after the snapshot (or from index 1), contiguous. */
  readonly entries: readonly Entry[];
  /** Highest index already applied to the state machine the application restored (≥ snapshot). */
  readonly applied?: number;
}

/** Everything the shell must do, in this order: persist → send → apply → advance(). */
export interface Ready {
  /** Present when changed: persist before sending. */
  readonly hardState?: HardState;
  /** Persist these; entries[0].index may overwrite (truncate) an existing suffix. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: persist it, drop the whole log, restore the app. */
  readonly snapshot?: Snapshot;
  /** A snapshot this node took (compact()): persist it and drop entries ≤ compactTo. */
  readonly compaction?: { readonly snapshot: Snapshot; readonly compactTo: number };
  /** Send after persisting. */
  readonly messages: readonly Message[];
  /** Apply in order after persisting. */
  readonly committed: readonly Entry[];
  /** Confirmed linearizable reads. */
  readonly readStates: readonly ReadState[];
  /** Role and leader as of this Ready. */
  readonly role: Role;
  readonly leader: NodeId;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
    readonly ok: false;
    readonly reason: "not_leader" | "transferring" | "overloaded" | "pending_config" | "invalid";
    readonly leader: NodeId;
    readonly message: string;
  };

type ProgressState = "probe" | "replicate" | "snapshot";

/** The leader's view of one follower. */
interface Progress {
  match: number;
  next: number;
  state: ProgressState;
  /** Probe: an append is outstanding, wait for an answer or a heartbeat response. */
  probeSent: boolean;
  /** Replicate: last index of each AppendEntries in flight (bounded by maxInflightMsgs). */
  inflight: number[];
  /** Snapshot: index of the snapshot sent, and heartbeat rounds since. */
  pendingSnapshot: number;
  snapshotRounds: number;
  /** Heard from since the last CheckQuorum round. */
  recentActive: boolean;
  /** Replication session: replies carrying another session are from an earlier progress. */
  session: number;
}

interface PendingRead {
  readonly ctx: string;
  readonly index: number;
  /** Who asked: this node or a follower to answer with readIndexResp. */
  readonly requester: NodeId;
  readonly acks: Set<NodeId>;
}

/** A read-only snapshot of the core's state, for the shell, tests and simulator invariants. */
export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly config: ClusterConfig;
  readonly progress: Readonly<
    Record<NodeId, { match: number; next: number; state: ProgressState; session: number }>
  >;
}

export class Raft {
  readonly id: NodeId;
  readonly #cfg: Required<Omit<RaftConfig, "broken">> & { broken: BrokenVariant };
  readonly #log = new RaftLog();

  #term = 0;
  #vote: NodeId = "";
  #role: Role = "follower";
  #leader: NodeId = "";
  #config: ClusterConfig = { voters: [], learners: [] };

  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedElectionTimeout = 0;

  #votes = new Map<NodeId, boolean>();
  #progress = new Map<NodeId, Progress>();
  #leadTransferee: NodeId = "";
  #transferElapsed = 0;
  /** Index of the newest config entry not known committed (0 when none). */
  #pendingConfIndex = 0;
  #promoteWhenCaughtUp = new Set<NodeId>();
  #sessionSeq = 0;

  #pendingReads: PendingRead[] = [];
  /** Reads asked before this leader committed an entry of its term. */
  #readsAwaitingCommit: Array<{ ctx: string; requester: NodeId }> = [];
  #readStates: ReadState[] = [];

  #msgs: Message[] = [];
  #prevHardState: HardState = emptyHardState;
  #pendingSnapshot: Snapshot | undefined;
  #pendingCompaction: { snapshot: Snapshot; compactTo: number } | undefined;
  #snapshot: Snapshot | undefined;
  /** What the last ready() handed out, confirmed by advance(). */
  #inReady: { stableTo: number; stableTerm: number; appliedTo: number; snapTo: number } | undefined;

  constructor(config: RaftConfig, restore: RestoreState) {
    assert(config.id !== "", "node id must not be empty");
    assert(config.heartbeatTicks > 0, "heartbeatTicks must be > 0");
    assert(
      config.electionTicks > config.heartbeatTicks,
      "electionTicks must exceed heartbeatTicks",
    );
    this.id = config.id;
    this.#cfg = {
      id: config.id,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      prng: config.prng,
      preVote: config.preVote ?? true,
      checkQuorum: config.checkQuorum ?? true,
      maxInflightMsgs: config.maxInflightMsgs ?? limits.raftInflightMsgsMax,
      maxEntriesPerMsg: config.maxEntriesPerMsg ?? limits.raftEntriesPerMsgMax,
      maxBytesPerMsg: config.maxBytesPerMsg ?? limits.raftAppendBytesMax,
      maxUncommittedEntries: config.maxUncommittedEntries ?? limits.raftUncommittedEntriesMax,
      maxCommittedPerReady: config.maxCommittedPerReady ?? limits.raftCommittedPerReadyMax,
      trailingEntries: config.trailingEntries ?? limits.raftTrailingEntries,
      snapshotRetryHeartbeats: config.snapshotRetryHeartbeats ?? 10,
      broken: config.broken ?? {},
    };
    const log = this.#log;
    if (restore.snapshot !== undefined) {
      log.restore(restore.snapshot);
      this.#snapshot = restore.snapshot;
    }
    let expect = log.lastIndex() + 1;
    for (const e of restore.entries) {
      if (e.index <= log.offset) continue;
      assert(e.index === expect, `restore: entry ${e.index} where ${expect} was expected`);
      log.push(e);
      expect++;
    }
    log.unstableFrom = log.lastIndex() + 1;
    const hs = restore.hardState;
    // A torn batch can keep entries whose term outran the hard state; such a term was never
    // voted in (the vote would have been durable before it was sent), so adopting it is safe.
    this.#term = Math.max(hs.term, log.lastTerm());
    this.#vote = hs.term === this.#term ? hs.vote : "";
    log.committed = Math.max(log.committed, Math.min(hs.commit, log.lastIndex()));
    log.applied = Math.max(log.offset, Math.min(restore.applied ?? log.offset, log.committed));
    this.#prevHardState = this.hardState();
    this.#config = log.configAt(log.lastIndex());
    const pending = log.lastConfigIndexAfter(log.committed);
    this.#pendingConfIndex = pending;
    this.#becomeFollower(this.#term, "");
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.#role === "leader") this.#tickLeader();
    else this.#tickElection();
  }

  /** Handles one message from a peer. Messages for another node are an assertion failure. */
  step(m: Message): void {
    assert(m.to === this.id, `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.#term) {
      if ((m.type === "preVote" || m.type === "vote") && !this.#config.voters.includes(m.from)) {
        // A removed (or not yet added) server must not push our term up (hashicorp/raft #524).
        const type = m.type === "vote" ? "voteResp" : "preVoteResp";
        this.#send({ type, from: this.id, to: m.from, term: this.#term, reject: true });
        return;
      }
      if (m.type === "preVote" || m.type === "vote") {
        const inLease = this.#cfg.checkQuorum && this.#leader !== "" &&
          this.#electionElapsed < this.#cfg.electionTicks;
        // Leader stickiness (Howard & Abraham): ignore campaigns while a leader is recent.
        if (inLease && !m.transfer) return;
      }
      if (m.type === "preVote") {
        // A pre-vote never changes our term.
      } else if (m.type === "preVoteResp" && !m.reject) {
        // Granted pre-votes carry the future term; the term rises only if we win the round.
      } else {
        const leader = m.type === "app" || m.type === "heartbeat" || m.type === "snap"
          ? m.from
          : "";
        this.#becomeFollower(m.term, leader);
      }
    } else if (m.term < this.#term) {
      if (
        (this.#cfg.checkQuorum || this.#cfg.preVote) &&
        (m.type === "app" || m.type === "heartbeat")
      ) {
        // A stale leader (e.g. just back from a partition) learns our term and steps down; with
        // PreVote our term would otherwise never reach it.
        this.#send({
          type: "appResp",
          from: this.id,
          to: m.from,
          term: this.#term,
          index: 0,
          reject: true,
          hint: 0,
          session: 0,
        });
      } else if (m.type === "preVote") {
        this.#send({
          type: "preVoteResp",
          from: this.id,
          to: m.from,
          term: this.#term,
          reject: true,
        });
      }
      return;
    }

    switch (m.type) {
      case "preVote":
      case "vote":
        this.#handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.#role) {
      case "leader":
        this.#stepLeader(m);
        return;
      case "candidate":
      case "preCandidate":
        this.#stepCandidate(m);
        return;
      case "follower":
        this.#stepFollower(m);
        return;
      default:
        assertNever(this.#role, "role");
    }
  }

  /**
   * A follower forgets its leader (the shell learnt it is gone), dropping the leader lease so it
   * may vote at once (etcd's ForgetLeader).
   */
  forgetLeader(): void {
    if (this.#role === "follower") this.#leader = "";
  }

  /** Starts an election now (as if the election timeout elapsed). */
  campaign(): void {
    if (!this.#promotable()) return;
    if (this.#role === "leader") return;
    if (this.#cfg.preVote) this.#campaignPre();
    else this.#campaignVote(false);
  }

  /** Proposes an application command. On success the entry is at (index, term) in the log. */
  propose(data: Uint8Array): ProposeResult {
    return this.#appendAsLeader("normal", data);
  }

  /** Proposes a single-server configuration change; effective on every server once appended. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    const config = this.#config;
    const isVoter = config.voters.includes(cc.node);
    const isLearner = config.learners.includes(cc.node);
    let next: ClusterConfig;
    switch (cc.type) {
      case "addLearner":
        if (isVoter || isLearner) return this.#refuse("invalid", `${cc.node} is already a member`);
        next = { voters: config.voters, learners: [...config.learners, cc.node] };
        break;
      case "addVoter":
        if (isVoter) return this.#refuse("invalid", `${cc.node} is already a voter`);
        if (!isLearner) {
          // Join as a non-voter first; the leader promotes it once it has caught up.
          next = { voters: config.voters, learners: [...config.learners, cc.node] };
          const r = this.#proposeConfig(next);
          if (r.ok) this.#promoteWhenCaughtUp.add(cc.node);
          return r;
        }
        next = {
          voters: [...config.voters, cc.node],
          learners: config.learners.filter((n) => n !== cc.node),
        };
        break;
      case "remove":
        if (!isVoter && !isLearner) return this.#refuse("invalid", `${cc.node} is not a member`);
        next = {
          voters: config.voters.filter((n) => n !== cc.node),
          learners: config.learners.filter((n) => n !== cc.node),
        };
        if (next.voters.length === 0) {
          return this.#refuse("invalid", "cannot remove the last voter");
        }
        this.#promoteWhenCaughtUp.delete(cc.node);
        break;
      default:
        return assertNever(cc, "conf change");
    }
    return this.#proposeConfig(next);
  }

  /**
   * Asks for a linearizable read. On the leader it is confirmed by a heartbeat quorum; on a
   * follower it is forwarded to the leader. The answer arrives as a ReadState in a later Ready.
   * Returns false when there is no known leader (the caller retries).
   */
  readIndex(ctx: string): boolean {
    if (this.#role === "leader") {
      this.#leaderReadIndex(ctx, this.id);
      return true;
    }
    if (this.#leader === "") return false;
    this.#send({ type: "readIndex", from: this.id, to: this.#leader, term: this.#term, ctx });
    return true;
  }

  /** Starts handing leadership to `to` (leader only). Returns false when it cannot start. */
  transferLeadership(to: NodeId): boolean {
    if (this.#role !== "leader" || to === this.id) return false;
    if (!this.#config.voters.includes(to)) return false;
    const pr = this.#progress.get(to);
    if (pr === undefined) return false;
    this.#leadTransferee = to;
    this.#transferElapsed = 0;
    if (pr.match === this.#log.lastIndex()) this.#sendTimeoutNow(to);
    else this.#sendAppend(to);
    return true;
  }

  /**
   * Records an application snapshot covering the log up to `index` (≤ applied) and compacts the
   * log, keeping `trailingEntries` behind it. The next Ready carries it for persisting.
   */
  compact(index: number, data: Uint8Array): void {
    const log = this.#log;
    assert(index <= log.applied, `snapshot at ${index} beyond applied ${log.applied}`);
    if (this.#snapshot !== undefined && index <= this.#snapshot.meta.index) return;
    const term = log.term(index);
    assert(term !== undefined, `snapshot at ${index} is outside the log`);
    const snapshot: Snapshot = { meta: { index, term, config: log.configAt(index) }, data };
    this.#snapshot = snapshot;
    const compactTo = Math.max(log.offset, index - this.#cfg.trailingEntries);
    log.compact(compactTo);
    this.#pendingCompaction = { snapshot, compactTo };
  }

  // ---------------------------------------------------------------- outputs

  hasReady(): boolean {
    const log = this.#log;
    return this.#msgs.length > 0 || log.unstableFrom <= log.lastIndex() ||
      this.#pendingSnapshot !== undefined || this.#pendingCompaction !== undefined ||
      this.#readStates.length > 0 || !sameHardState(this.hardState(), this.#prevHardState) ||
      this.#nextCommitted().length > 0;
  }

  /** Takes the pending work. Call advance() once it is persisted, sent and applied. */
  ready(): Ready {
    assert(this.#inReady === undefined, "ready() called again before advance()");
    const log = this.#log;
    const hs = this.hardState();
    const entries = log.unstableFrom <= log.lastIndex()
      ? log.slice(log.unstableFrom, log.lastIndex() + 1)
      : [];
    const committed = this.#nextCommitted();
    const rd: Ready = {
      ...(sameHardState(hs, this.#prevHardState) ? {} : { hardState: hs }),
      entries,
      ...(this.#pendingSnapshot === undefined ? {} : { snapshot: this.#pendingSnapshot }),
      ...(this.#pendingCompaction === undefined ? {} : { compaction: this.#pendingCompaction }),
      messages: this.#msgs,
      committed,
      readStates: this.#readStates,
      role: this.#role,
      leader: this.#leader,
    };
    this.#inReady = {
      stableTo: log.lastIndex(),
      stableTerm: log.lastTerm(),
      appliedTo: committed.length > 0 ? (committed[committed.length - 1] as Entry).index : 0,
      snapTo: this.#pendingSnapshot?.meta.index ?? 0,
    };
    this.#prevHardState = hs;
    this.#msgs = [];
    this.#readStates = [];
    this.#pendingSnapshot = undefined;
    this.#pendingCompaction = undefined;
    return rd;
  }

  /** Confirms the last Ready was persisted, sent and applied. */
  advance(): void {
    const r = this.#inReady;
    assert(r !== undefined, "advance() without ready()");
    this.#inReady = undefined;
    const log = this.#log;
    if (r.snapTo > 0) log.applied = Math.max(log.applied, r.snapTo);
    if (r.appliedTo > 0) log.applied = Math.max(log.applied, r.appliedTo);
    if (log.matchTerm(r.stableTo, r.stableTerm) && log.unstableFrom <= r.stableTo) {
      log.unstableFrom = r.stableTo + 1;
    }
    if (this.#role === "leader") {
      const self = this.#progress.get(this.id);
      const stable = log.unstableFrom - 1;
      if (self !== undefined && stable > self.match) {
        self.match = stable;
        self.next = stable + 1;
        if (this.#maybeCommit()) this.#bcastAppend();
      }
    }
  }

  hardState(): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#log.committed };
  }

  status(): Status {
    const progress: Record<
      NodeId,
      { match: number; next: number; state: ProgressState; session: number }
    > = {};
    for (const [id, pr] of this.#progress) {
      progress[id] = { match: pr.match, next: pr.next, state: pr.state, session: pr.session };
    }
    return {
      id: this.id,
      role: this.#role,
      term: this.#term,
      vote: this.#vote,
      leader: this.#leader,
      commit: this.#log.committed,
      applied: this.#log.applied,
      lastIndex: this.#log.lastIndex(),
      firstIndex: this.#log.firstIndex(),
      config: this.#config,
      progress,
    };
  }

  /** Term at index i (undefined when compacted or absent), for checkers. */
  termAt(i: number): number | undefined {
    return this.#log.term(i);
  }

  /** Log entries in [lo, hi) that are still in memory, for checkers and tests. */
  entries(lo: number, hi: number): Entry[] {
    const log = this.#log;
    const from = Math.max(lo, log.firstIndex());
    const to = Math.min(hi, log.lastIndex() + 1);
    return from < to ? log.slice(from, to) : [];
  }

  // ---------------------------------------------------------------- roles

  #becomeFollower(term: number, leader: NodeId): void {
    if (term !== this.#term) {
      this.#term = term;
      this.#vote = "";
    }
    this.#role = "follower";
    this.#leader = leader;
    this.#resetTimers();
    this.#abortLeaderState();
  }

  #becomePreCandidate(): void {
    assert(this.#role !== "leader", "leader cannot become pre-candidate");
    this.#role = "preCandidate";
    this.#leader = "";
    this.#votes = new Map();
    this.#resetTimers();
  }

  #becomeCandidate(): void {
    assert(this.#role !== "leader", "leader cannot become candidate");
    this.#term += 1;
    this.#vote = this.id;
    this.#role = "candidate";
    this.#leader = "";
    this.#votes = new Map();
    this.#resetTimers();
  }

  #becomeLeader(): void {
    assert(this.#role === "candidate", `only a candidate becomes leader (was ${this.#role})`);
    this.#role = "leader";
    this.#leader = this.id;
    this.#resetTimers();
    this.#progress = new Map();
    const last = this.#log.lastIndex();
    for (const id of this.#members()) {
      this.#progress.set(id, newProgress(id === this.id ? last : 0, last + 1, ++this.#sessionSeq));
    }
    const self = this.#progress.get(this.id);
    if (self !== undefined) self.match = this.#log.unstableFrom - 1;
    this.#pendingConfIndex = this.#log.lastConfigIndexAfter(this.#log.committed);
    // The no-op lets this leader commit entries of earlier terms (Figure 8) and serve reads.
    this.#appendEntry("noop", new Uint8Array());
    this.#bcastAppend();
  }

  #abortLeaderState(): void {
    this.#progress = new Map();
    this.#leadTransferee = "";
    this.#pendingReads = [];
    this.#readsAwaitingCommit = [];
    this.#promoteWhenCaughtUp.clear();
  }

  #resetTimers(): void {
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    const base = this.#cfg.electionTicks;
    this.#randomizedElectionTimeout = base + this.#cfg.prng.int(0, base);
  }

  #promotable(): boolean {
    return this.#config.voters.includes(this.id);
  }

  #members(): NodeId[] {
    return [...this.#config.voters, ...this.#config.learners];
  }

  #quorum(): number {
    return Math.floor(this.#config.voters.length / 2) + 1;
  }

  // ---------------------------------------------------------------- ticks

  #tickElection(): void {
    this.#electionElapsed++;
    if (this.#promotable() && this.#electionElapsed >= this.#randomizedElectionTimeout) {
      this.#electionElapsed = 0;
      this.campaign();
    } else if (
      this.#role === "preCandidate" && this.#electionElapsed % this.#cfg.heartbeatTicks === 0
    ) {
      // Voters still inside their leader lease ignored us silently; their lease ends within a
      // tick or two of ours, so ask again each heartbeat instead of waiting a whole election
      // timeout (a pre-vote changes no state, so repeating it is free of risk).
      this.#repeatPreVotes();
    }
  }

  #repeatPreVotes(): void {
    for (const id of this.#config.voters) {
      if (id === this.id || this.#votes.has(id)) continue;
      this.#send({
        type: "preVote",
        from: this.id,
        to: id,
        term: this.#term + 1,
        lastIndex: this.#log.lastIndex(),
        lastTerm: this.#log.lastTerm(),
        transfer: false,
      });
    }
  }

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.#cfg.electionTicks) {
      this.#electionElapsed = 0;
      if (this.#cfg.checkQuorum && !this.#quorumActive()) {
        this.#becomeFollower(this.#term, "");
        return;
      }
    }
    if (this.#leadTransferee !== "") {
      this.#transferElapsed++;
      if (this.#transferElapsed >= this.#cfg.electionTicks) this.#leadTransferee = "";
    }
    if (this.#heartbeatElapsed >= this.#cfg.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#bcastHeartbeat();
      this.#maybePromote();
    }
  }

  /** CheckQuorum: did a quorum of voters (counting self) talk to us this round? Resets marks. */
  #quorumActive(): boolean {
    let active = 0;
    for (const id of this.#config.voters) {
      const pr = this.#progress.get(id);
      if (id === this.id || pr?.recentActive === true) active++;
    }
    for (const [id, pr] of this.#progress) if (id !== this.id) pr.recentActive = false;
    return active >= this.#quorum();
  }

  // ---------------------------------------------------------------- elections

  #campaignPre(): void {
    this.#becomePreCandidate();
    this.#requestVotes("preVote", this.#term + 1, false);
  }

  #campaignVote(transfer: boolean): void {
    this.#becomeCandidate();
    this.#requestVotes("vote", this.#term, transfer);
  }

  #requestVotes(type: "preVote" | "vote", term: number, transfer: boolean): void {
    // Our own vote is recorded first; a single voter wins at once.
    this.#votes.set(this.id, true);
    if (this.#tally() === "won") {
      this.#winRound(type, transfer);
      return;
    }
    for (const id of this.#config.voters) {
      if (id === this.id) continue;
      this.#send({
        type,
        from: this.id,
        to: id,
        term,
        lastIndex: this.#log.lastIndex(),
        lastTerm: this.#log.lastTerm(),
        transfer,
      });
    }
  }

  #winRound(type: "preVote" | "vote", transfer: boolean): void {
    if (type === "preVote") this.#campaignVote(transfer);
    else this.#becomeLeader();
  }

  #tally(): "won" | "lost" | "pending" {
    let granted = 0;
    let rejected = 0;
    for (const id of this.#config.voters) {
      const v = this.#votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.#quorum();
    if (granted >= q) return "won";
    if (rejected > this.#config.voters.length - q) return "lost";
    return "pending";
  }

  #handleVoteRequest(m: VoteRequest): void {
    const isPre = m.type === "preVote";
    const fromMember = this.#config.voters.includes(m.from);
    const canVote = this.#vote === m.from ||
      (this.#vote === "" && this.#leader === "") ||
      (isPre && m.term > this.#term);
    const upToDate = this.#cfg.broken.voteWithoutLogCheck === true ||
      this.#log.isUpToDate(m.lastIndex, m.lastTerm);
    const grant = fromMember && canVote && upToDate;
    const respType = isPre ? "preVoteResp" : "voteResp";
    if (grant) {
      if (!isPre) {
        this.#electionElapsed = 0;
        this.#vote = m.from;
      }
      // A granted pre-vote answers in the candidate's future term so it is not ignored as stale.
      this.#send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
    } else {
      this.#send({ type: respType, from: this.id, to: m.from, term: this.#term, reject: true });
    }
  }

  #stepCandidate(m: Message): void {
    switch (m.type) {
      case "preVoteResp":
      case "voteResp": {
        const want = this.#role === "preCandidate" ? "preVoteResp" : "voteResp";
        if (m.type !== want) return;
        this.#votes.set(m.from, !m.reject);
        const t = this.#tally();
        if (t === "won") this.#winRound(this.#role === "preCandidate" ? "preVote" : "vote", false);
        else if (t === "lost") this.#becomeFollower(this.#term, "");
        return;
      }
      case "app":
      case "heartbeat":
      case "snap":
        // A leader exists in our term: step back and handle it as a follower.
        this.#becomeFollower(m.term, m.from);
        this.#stepFollower(m);
        return;
      case "timeoutNow":
      case "readIndex":
      case "readIndexResp":
      case "appResp":
      case "heartbeatResp":
      case "preVote":
      case "vote":
        return;
      default:
        assertNever(m, "message");
    }
  }

  // ---------------------------------------------------------------- follower

  #stepFollower(m: Message): void {
    switch (m.type) {
      case "app":
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#handleAppend(m);
        return;
      case "heartbeat":
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#handleHeartbeat(m);
        return;
      case "snap":
        this.#electionElapsed = 0;
        this.#leader = m.from;
        this.#handleSnapshot(m);
        return;
      case "timeoutNow":
        if (this.#promotable()) this.#campaignVote(true);
        return;
      case "readIndex":
        // We are not the leader (any more): the requester times out and retries.
        return;
      case "readIndexResp":
        this.#readStates.push({ ctx: m.ctx, index: m.index });
        return;
      case "preVoteResp":
      case "voteResp":
      case "appResp":
      case "heartbeatResp":
      case "preVote":
      case "vote":
        return;
      default:
        assertNever(m, "message");
    }
  }

  #handleAppend(m: Message & { type: "app" }): void {
    const log = this.#log;
    if (m.prevIndex < log.committed) {
      this.#sendAppResp(m.from, log.committed, false, m.session);
      return;
    }
    if (!log.matchTerm(m.prevIndex, m.prevTerm)) {
      this.#send({
        type: "appResp",
        from: this.id,
        to: m.from,
        term: this.#term,
        index: m.prevIndex,
        reject: true,
        hint: Math.min(m.prevIndex, log.lastIndex()),
        session: m.session,
      });
      return;
    }
    const lastNew = m.prevIndex + m.entries.length;
    const firstNew = log.appendAfterConflicts(m.entries);
    // New entries may add a config, and a truncation may have removed one.
    if (firstNew !== undefined) this.#config = log.configAt(log.lastIndex());
    this.#commitTo(Math.min(m.commit, lastNew));
    this.#sendAppResp(m.from, lastNew, false, m.session);
  }

  #handleHeartbeat(m: Message & { type: "heartbeat" }): void {
    this.#commitTo(Math.min(m.commit, this.#log.lastIndex()));
    this.#send({
      type: "heartbeatResp",
      from: this.id,
      to: m.from,
      term: this.#term,
      ctx: m.ctx,
      session: m.session,
    });
  }

  #handleSnapshot(m: Message & { type: "snap" }): void {
    const log = this.#log;
    const s = m.snapshot;
    if (s.meta.index <= log.committed) {
      this.#sendAppResp(m.from, log.committed, false, m.session);
      return;
    }
    if (log.matchTerm(s.meta.index, s.meta.term)) {
      // Figure 13 rule 6: our log already holds the snapshot's last entry; keep what follows.
      this.#commitTo(s.meta.index);
      this.#sendAppResp(m.from, log.lastIndex(), false, m.session);
      return;
    }
    // Rule 7: discard the entire log and restore from the snapshot.
    log.restore(s);
    log.applied = Math.min(log.applied, s.meta.index);
    this.#snapshot = s;
    this.#pendingSnapshot = s;
    this.#config = s.meta.config;
    this.#pendingConfIndex = 0;
    this.#sendAppResp(m.from, s.meta.index, false, m.session);
  }

  #sendAppResp(to: NodeId, index: number, reject: boolean, session: number): void {
    this.#send({
      type: "appResp",
      from: this.id,
      to,
      term: this.#term,
      index,
      reject,
      hint: this.#log.lastIndex(),
      session,
    });
  }

  #commitTo(index: number): void {
    if (index > this.#log.committed) {
      assert(
        index <= this.#log.lastIndex(),
        `commit ${index} beyond last ${this.#log.lastIndex()}`,
      );
      this.#log.committed = index;
    }
  }

  // ---------------------------------------------------------------- leader

  #stepLeader(m: Message): void {
    switch (m.type) {
      case "appResp":
        this.#handleAppResp(m);
        return;
      case "heartbeatResp":
        this.#handleHeartbeatResp(m);
        return;
      case "readIndex":
        if (this.#config.voters.includes(m.from) || this.#config.learners.includes(m.from)) {
          this.#leaderReadIndex(m.ctx, m.from);
        }
        return;
      case "app":
      case "heartbeat":
      case "snap":
        // Another leader in our term would break election safety.
        assert(false, `${this.id} leader in term ${this.#term} got ${m.type} from ${m.from}`);
        return;
      case "preVoteResp":
      case "voteResp":
      case "timeoutNow":
      case "readIndexResp":
      case "preVote":
      case "vote":
        return;
      default:
        assertNever(m, "message");
    }
  }

  #handleAppResp(m: Message & { type: "appResp" }): void {
    const pr = this.#progress.get(m.from);
    if (pr === undefined || m.session !== pr.session) return;
    pr.recentActive = true;
    if (m.reject) {
      if (m.index === 0 && m.hint === 0) return; // stale-term notice, not a log answer
      // Only the answer to the probe we are waiting for may move next backwards.
      if (pr.state === "replicate") {
        if (m.index <= pr.match) return;
        this.#becomeProbe(pr);
      } else if (m.index !== pr.next - 1) {
        return;
      }
      pr.next = Math.max(pr.match + 1, Math.min(m.index, m.hint + 1));
      pr.probeSent = false;
      this.#sendAppend(m.from);
      return;
    }
    const wasPaused = this.#isPaused(pr);
    if (m.index > pr.match) {
      pr.match = m.index;
      pr.next = Math.max(pr.next, m.index + 1);
      switch (pr.state) {
        case "probe":
          this.#becomeReplicate(pr);
          break;
        case "snapshot":
          if (pr.match >= pr.pendingSnapshot) {
            this.#becomeProbe(pr);
            this.#becomeReplicate(pr);
          }
          break;
        case "replicate":
          pr.inflight = pr.inflight.filter((i) => i > m.index);
          break;
        default:
          assertNever(pr.state, "progress state");
      }
      if (this.#maybeCommit()) this.#bcastAppend();
      else if (wasPaused || pr.next <= this.#log.lastIndex()) this.#sendAppend(m.from);
      if (m.from === this.#leadTransferee && pr.match === this.#log.lastIndex()) {
        this.#sendTimeoutNow(m.from);
      }
    } else if (pr.state === "probe" && pr.probeSent) {
      pr.probeSent = false;
      if (pr.next <= this.#log.lastIndex()) this.#sendAppend(m.from);
    }
  }

  #handleHeartbeatResp(m: Message & { type: "heartbeatResp" }): void {
    const pr = this.#progress.get(m.from);
    if (pr === undefined || m.session !== pr.session) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === "replicate" && pr.inflight.length >= this.#cfg.maxInflightMsgs) {
      // The window is full of messages that may be lost: free one slot per heartbeat.
      pr.inflight.shift();
    }
    if (pr.state === "snapshot") {
      pr.snapshotRounds++;
      if (pr.snapshotRounds >= this.#cfg.snapshotRetryHeartbeats) this.#becomeProbe(pr);
    }
    if (pr.match < this.#log.lastIndex()) this.#sendAppend(m.from);
    if (m.ctx !== "") this.#ackRead(m.ctx, m.from);
  }

  #leaderReadIndex(ctx: string, requester: NodeId): void {
    if (this.#log.term(this.#log.committed) !== this.#term) {
      // Until an entry of our term commits we do not know the true commit index.
      this.#readsAwaitingCommit.push({ ctx, requester });
      return;
    }
    const index = this.#log.committed;
    if (this.#config.voters.length === 1 && this.#promotable()) {
      this.#releaseRead({ ctx, index, requester, acks: new Set() });
      return;
    }
    this.#pendingReads.push({ ctx, index, requester, acks: new Set([this.id]) });
    this.#bcastHeartbeat(ctx);
  }

  #ackRead(ctx: string, from: NodeId): void {
    const at = this.#pendingReads.findIndex((r) => r.ctx === ctx);
    if (at < 0) return;
    const read = this.#pendingReads[at] as PendingRead;
    read.acks.add(from);
    let acks = 0;
    for (const v of this.#config.voters) if (read.acks.has(v)) acks++;
    if (acks < this.#quorum()) return;
    // Confirming a read confirms every earlier one too.
    const done = this.#pendingReads.splice(0, at + 1);
    for (const r of done) this.#releaseRead(r);
  }

  #releaseRead(r: PendingRead): void {
    if (r.requester === this.id) this.#readStates.push({ ctx: r.ctx, index: r.index });
    else {
      this.#send({
        type: "readIndexResp",
        from: this.id,
        to: r.requester,
        term: this.#term,
        ctx: r.ctx,
        index: r.index,
      });
    }
  }

  #appendAsLeader(type: "normal" | "config", data: Uint8Array): ProposeResult {
    if (this.#role !== "leader") {
      return this.#refuse("not_leader", `${this.id} is not the leader (leader: "${this.#leader}")`);
    }
    if (this.#leadTransferee !== "") {
      return this.#refuse("transferring", `leadership is moving to ${this.#leadTransferee}`);
    }
    const uncommitted = this.#log.lastIndex() - this.#log.committed;
    if (uncommitted >= this.#cfg.maxUncommittedEntries) {
      return this.#refuse(
        "overloaded",
        `${uncommitted} uncommitted entries reach the limit ${this.#cfg.maxUncommittedEntries}`,
      );
    }
    const e = this.#appendEntry(type, data);
    this.#bcastAppend();
    return { ok: true, index: e.index, term: e.term };
  }

  #proposeConfig(next: ClusterConfig): ProposeResult {
    if (this.#role === "leader" && this.#pendingConfIndex > this.#log.committed) {
      return this.#refuse(
        "pending_config",
        `configuration change at index ${this.#pendingConfIndex} is not committed yet`,
      );
    }
    if (this.#role === "leader" && this.#log.term(this.#log.committed) !== this.#term) {
      // Until our no-op commits, an uncommitted config from an earlier term might still exist.
      return this.#refuse("pending_config", "leader has not committed an entry in its term yet");
    }
    return this.#appendAsLeader("config", encodeConfig(next));
  }

  #refuse(
    reason: "not_leader" | "transferring" | "overloaded" | "pending_config" | "invalid",
    message: string,
  ): ProposeResult {
    return { ok: false, reason, leader: this.#leader, message };
  }

  #appendEntry(type: "normal" | "config" | "noop", data: Uint8Array): Entry {
    const e: Entry = { index: this.#log.lastIndex() + 1, term: this.#term, type, data };
    this.#log.push(e);
    if (type === "config") {
      // Single-server changes take effect as soon as they are appended.
      this.#pendingConfIndex = e.index;
      this.#applyConfigAsLeader(this.#log.configAt(e.index));
    }
    return e;
  }

  #applyConfigAsLeader(config: ClusterConfig): void {
    this.#config = config;
    const last = this.#log.lastIndex();
    for (const id of this.#members()) {
      if (!this.#progress.has(id)) {
        const pr = newProgress(0, last, ++this.#sessionSeq);
        pr.recentActive = true;
        this.#progress.set(id, pr);
      }
    }
    for (const id of [...this.#progress.keys()]) {
      if (id !== this.id && !this.#members().includes(id)) this.#progress.delete(id);
    }
  }

  #maybePromote(): void {
    if (this.#pendingConfIndex > this.#log.committed) return;
    for (const id of this.#promoteWhenCaughtUp) {
      const pr = this.#progress.get(id);
      if (pr === undefined || !this.#config.learners.includes(id)) {
        this.#promoteWhenCaughtUp.delete(id);
        continue;
      }
      if (pr.match >= this.#log.committed) {
        this.#promoteWhenCaughtUp.delete(id);
        this.proposeConfChange({ type: "addVoter", node: id });
        return;
      }
    }
  }

  /** Advances the commit index to the highest index a quorum of voters holds, if of our term. */
  #maybeCommit(): boolean {
    const matches: number[] = [];
    for (const id of this.#config.voters) matches.push(this.#progress.get(id)?.match ?? 0);
    if (matches.length === 0) return false;
    matches.sort((a, b) => b - a);
    const quorumIndex = matches[this.#quorum() - 1] as number;
    const log = this.#log;
    if (quorumIndex <= log.committed) return false;
    const broken = this.#cfg.broken.commitOldTermByCounting === true;
    if (!broken && log.term(quorumIndex) !== this.#term) return false;
    log.committed = quorumIndex;
    this.#afterLeaderCommit();
    return true;
  }

  #afterLeaderCommit(): void {
    const log = this.#log;
    if (this.#pendingConfIndex <= log.committed) {
      // The newest config is committed; a leader it removed now steps down.
      if (!this.#promotable()) {
        this.#becomeFollower(this.#term, "");
        return;
      }
    }
    if (this.#readsAwaitingCommit.length > 0 && log.term(log.committed) === this.#term) {
      const waiting = this.#readsAwaitingCommit;
      this.#readsAwaitingCommit = [];
      for (const r of waiting) this.#leaderReadIndex(r.ctx, r.requester);
    }
  }

  #bcastAppend(): void {
    for (const id of this.#progress.keys()) if (id !== this.id) this.#sendAppend(id);
  }

  #bcastHeartbeat(ctx?: string): void {
    const readCtx = ctx ?? this.#pendingReads[this.#pendingReads.length - 1]?.ctx ?? "";
    for (const [id, pr] of this.#progress) {
      if (id === this.id) continue;
      this.#send({
        type: "heartbeat",
        from: this.id,
        to: id,
        term: this.#term,
        commit: Math.min(pr.match, this.#log.committed),
        ctx: readCtx,
        session: pr.session,
      });
    }
  }

  #isPaused(pr: Progress): boolean {
    switch (pr.state) {
      case "probe":
        return pr.probeSent;
      case "replicate":
        return pr.inflight.length >= this.#cfg.maxInflightMsgs;
      case "snapshot":
        return true;
      default:
        return assertNever(pr.state, "progress state");
    }
  }

  /** Sends entries (or a snapshot) to one follower if its flow control allows. */
  #sendAppend(to: NodeId): void {
    const pr = this.#progress.get(to);
    if (pr === undefined || this.#isPaused(pr)) return;
    const log = this.#log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined || prevIndex < log.offset) {
      this.#sendSnapshot(to, pr);
      return;
    }
    const hi = Math.min(log.lastIndex() + 1, pr.next + this.#cfg.maxEntriesPerMsg);
    const entries = pr.next <= log.lastIndex() ? log.slice(pr.next, hi) : [];
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      bytes += (entries[i] as Entry).data.length;
      if (i > 0 && bytes > this.#cfg.maxBytesPerMsg) {
        entries.length = i;
        break;
      }
    }
    this.#send({
      type: "app",
      from: this.id,
      to,
      term: this.#term,
      prevIndex,
      prevTerm,
      entries,
      commit: Math.min(log.committed, prevIndex + entries.length),
      session: pr.session,
    });
    if (entries.length > 0 && pr.state === "replicate") {
      const last = (entries[entries.length - 1] as Entry).index;
      pr.next = last + 1;
      pr.inflight.push(last);
    } else if (pr.state === "probe") {
      pr.probeSent = true;
    }
  }

  #sendSnapshot(to: NodeId, pr: Progress): void {
    const s = this.#snapshot;
    assert(s !== undefined, `follower ${to} needs compacted entries but there is no snapshot`);
    pr.state = "snapshot";
    pr.pendingSnapshot = s.meta.index;
    pr.snapshotRounds = 0;
    pr.inflight = [];
    this.#send({
      type: "snap",
      from: this.id,
      to,
      term: this.#term,
      snapshot: s,
      session: pr.session,
    });
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#send({ type: "timeoutNow", from: this.id, to, term: this.#term });
  }

  #becomeProbe(pr: Progress): void {
    pr.state = "probe";
    pr.probeSent = false;
    pr.inflight = [];
    pr.next = pr.match + 1;
  }

  #becomeReplicate(pr: Progress): void {
    pr.state = "replicate";
    pr.probeSent = false;
    pr.inflight = [];
    pr.next = pr.match + 1;
  }

  // ---------------------------------------------------------------- plumbing

  #send(m: Message): void {
    this.#msgs.push(m);
  }

  #nextCommitted(): Entry[] {
    const log = this.#log;
    if (this.#pendingSnapshot !== undefined) return [];
    const lo = log.applied + 1;
    const hi = Math.min(
      log.committed,
      log.lastIndex(),
      log.applied + this.#cfg.maxCommittedPerReady,
    );
    if (lo > hi || lo <= log.offset) return [];
    return log.slice(lo, hi + 1);
  }
}

function newProgress(match: number, next: number, session: number): Progress {
  return {
    session,
    match,
    next,
    state: "probe",
    probeSent: false,
    inflight: [],
    pendingSnapshot: 0,
    snapshotRounds: 0,
    recentActive: false,
  };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
