/**
 * The Raft shell: owns one pure Raft core, its durable log store, a transport and the
 * application state machine. Every input (tick, peer message, proposal) is handled
 * synchronously and then the Ready is drained in the fixed order persist (one fsync'd
 * transaction) → send → apply → advance, so nothing is sent or acknowledged before it is
 * durable, and no term read before an await is ever used after it (there is no await between
 * input and drain). Inputs of one event-loop turn share one Ready (group commit).
 */
import { setImmediate } from "node:timers";
import { type Clock, errorMessage, limits, Prng } from "../lib/mod.ts";
import {
  bootstrapState,
  type ClusterConfig,
  type ConfChange,
  encodeConfig,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProposeResult,
  Raft,
  type Ready,
  type Role,
  type Snapshot,
  type Status,
} from "../raft/mod.ts";

/** Durable log storage (src/store RaftLogStore satisfies it). */
export interface LogStore {
  load(): {
    hardState: HardState;
    snapshot: Snapshot | undefined;
    entries: Entry[];
  };
  save(batch: {
    hardState?: HardState | undefined;
    entries: readonly Entry[];
    snapshot?: Snapshot | undefined;
    compaction?: { snapshot: Snapshot; compactTo: number } | undefined;
  }): void;
}

/** Sends messages to peers; delivery is best effort (Raft retries). */
export interface Transport {
  send(to: NodeId, messages: readonly Message[]): void;
}

/** The replicated application. All calls are synchronous, inside the drain. */
export interface StateMachine {
  /** Highest log index reflected in the durable state (survives restarts). */
  appliedIndex(): number;
  /** Applies committed entries in order; noop and config entries only advance the index. */
  apply(entries: readonly Entry[]): void;
  /**
   * Takes a consistent snapshot of the state at appliedIndex(); returns its opaque data. May
   * throw (a full disk): then it leaves nothing behind, and the shell keeps its log and retries.
   */
  snapshot(): Uint8Array;
  /** Replaces the whole state by a snapshot's (received from the leader, or found at start). */
  restore(s: Snapshot): void;
}

export type ShellEvent =
  | {
    readonly type: "role";
    readonly role: Role;
    readonly term: number;
    readonly leader: NodeId;
  }
  /** A snapshot from the leader replaced this node's log and state. */
  | { readonly type: "snapshotInstalled"; readonly index: number }
  /** This node took a snapshot and compacted its log. */
  | { readonly type: "snapshotTaken"; readonly index: number }
  /** Taking a snapshot failed; the log is kept whole and the snapshot is tried again later. */
  | { readonly type: "snapshotFailed"; readonly index: number; readonly error: string }
  /** A linearizable read confirmed at `index` is now servable (applied ≥ index). */
  | { readonly type: "read"; readonly ctx: string; readonly index: number };

export interface RaftShellOptions {
  readonly id: NodeId;
  readonly store: LogStore;
  readonly transport: Transport;
  readonly app: StateMachine;
  readonly clock: Clock;
  /** Milliseconds per Raft tick (the heartbeat interval when heartbeatTicks = 1). */
  readonly tickMs: number;
  /** Election timeout base in ticks (randomized to [base, 2 × base)). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Seed for the election-timeout PRNG (e.g. derived from the id and the start time). */
  readonly seed: number;
  /** Initial members when the store is empty (a fresh cluster); omit for a node that joins later. */
  readonly bootstrap?: ClusterConfig;
  /** Take a snapshot and compact once this many entries were applied since the last (0: never). */
  readonly snapshotThreshold?: number;
  /**
   * ...and at least this many ms (monotonic) after the previous one: a snapshot blocks the loop
   * for a copy of the state, so a busy log is compacted every interval, not every few seconds.
   */
  readonly snapshotIntervalMs?: number;
  readonly trailingEntries?: number;
  /**
   * Group every input that arrives in one event-loop turn into one Ready (one fsync, one RPC per
   * peer). Default true; false drains after each input (lower latency at low load, for benches).
   */
  readonly batch?: boolean;
  /** Committed entries handed to the application per Ready (one transaction each). */
  readonly maxCommittedPerReady?: number;
  readonly onEvent?: (e: ShellEvent) => void;
}

export class RaftShell {
  readonly id: NodeId;
  #raft: Raft;
  readonly #o: RaftShellOptions;
  #snapshotIndex = 0;
  #snapshotAt = -Infinity;
  /** Monotonic ms before which no automatic snapshot is tried (after a failure). */
  #snapshotRetryAt = -Infinity;
  #snapshotData: Uint8Array | undefined;
  #stopTicks: (() => void) | undefined;
  #role: Role = "follower";
  #leader: NodeId = "";
  #term = 0;
  #readyReads: Array<{ ctx: string; index: number }> = [];
  #stopped = false;
  #drainScheduled = false;

  constructor(o: RaftShellOptions) {
    this.id = o.id;
    this.#o = o;
    this.#raft = this.#load(o.bootstrap);
  }

  #load(bootstrap: ClusterConfig | undefined): Raft {
    const o = this.#o;
    let state = o.store.load();
    if (state.entries.length === 0 && state.snapshot === undefined && bootstrap) {
      const applied = o.app.appliedIndex();
      if (applied === 0) o.store.save(bootstrapState(bootstrap));
      else {
        // The application already holds state without a log (a data dir from before Raft, or
        // a lost raft.db): that state becomes the group's first snapshot.
        o.store.save({
          hardState: { term: 1, vote: "", commit: applied },
          entries: [],
          snapshot: {
            meta: { index: applied, term: 1, config: bootstrap },
            data: o.app.snapshot(),
          },
        });
      }
      state = o.store.load();
    }
    // A crash between persisting a received snapshot and installing it leaves the state behind.
    if (state.snapshot !== undefined && o.app.appliedIndex() < state.snapshot.meta.index) {
      o.app.restore(state.snapshot);
    }
    this.#snapshotIndex = state.snapshot?.meta.index ?? 0;
    this.#snapshotData = state.snapshot?.data;
    const raft = new Raft(
      {
        id: o.id,
        electionTicks: o.electionTicks,
        heartbeatTicks: o.heartbeatTicks,
        prng: new Prng(o.seed),
        ...(o.trailingEntries === undefined ? {} : { trailingEntries: o.trailingEntries }),
        ...(o.maxCommittedPerReady === undefined
          ? {}
          : { maxCommittedPerReady: o.maxCommittedPerReady }),
      },
      {
        hardState: state.hardState,
        snapshot: state.snapshot,
        entries: state.entries,
        applied: Math.max(o.app.appliedIndex(), state.snapshot?.meta.index ?? 0),
      },
    );
    this.#term = raft.status().term;
    return raft;
  }

  /** True once the store holds a configuration (bootstrapped, or joined and replicated). */
  hasState(): boolean {
    const s = this.#raft.status();
    return s.config.voters.length > 0 || s.config.learners.length > 0 || s.lastIndex > 0;
  }

  /**
   * Writes the first configuration of a brand-new cluster (bootstrap-expect reached, or a lone
   * server). Refused (false) once the store holds any state: a cluster bootstraps once.
   */
  bootstrap(config: ClusterConfig): boolean {
    if (this.hasState()) return false;
    this.#raft = this.#load(config);
    if (
      this.#stopTicks !== undefined && config.voters.length === 1 && config.voters[0] === this.id
    ) {
      this.#raft.campaign();
      this.#drain();
    }
    return true;
  }

  /**
   * Replaces the configuration after lost quorum (peers.json): a new term-1 config entry after
   * everything this node has, written as if bootstrapped, then the core reloads. Only before
   * start().
   */
  recover(config: ClusterConfig): void {
    const s = this.#raft.status();
    const index = s.lastIndex + 1;
    const term = s.term + 1;
    this.#o.store.save({
      hardState: { term, vote: "", commit: index },
      entries: [{ index, term, type: "config", data: encodeConfig(config) }],
    });
    this.#raft = this.#load(undefined);
  }

  /** Starts ticking; a lone voter campaigns at once instead of waiting an election timeout. */
  start(): void {
    this.#stopTicks = this.#o.clock.every(this.#o.tickMs, () => {
      if (this.#stopped) return;
      this.#raft.tick();
      this.#requestDrain();
    });
    const c = this.#raft.status().config;
    if (c.voters.length === 1 && c.voters[0] === this.id) {
      // Leader before start() returns: a lone server takes writes at once.
      this.#raft.campaign();
      this.#drain();
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#stopTicks?.();
  }

  /** Handles messages from a peer. */
  receive(messages: readonly Message[]): void {
    if (this.#stopped) return;
    for (const m of messages) {
      if (m.to !== this.id) continue;
      this.#raft.step(m);
    }
    this.#requestDrain();
  }

  /** Appends a command (leader only); it is done once applied at (index, term). */
  propose(data: Uint8Array): ProposeResult {
    const r = this.#raft.propose(data);
    if (r.ok) this.#requestDrain();
    return r;
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const r = this.#raft.proposeConfChange(cc);
    if (r.ok) this.#requestDrain();
    return r;
  }

  /** Asks for a linearizable read; a "read" event follows once servable. False: no leader. */
  readIndex(ctx: string): boolean {
    const ok = this.#raft.readIndex(ctx);
    if (ok) this.#requestDrain();
    return ok;
  }

  status(): Status {
    return this.#raft.status();
  }

  get role(): Role {
    return this.#role;
  }

  get term(): number {
    return this.#term;
  }

  get leader(): NodeId {
    return this.#leader;
  }

  campaign(): void {
    this.#raft.campaign();
    this.#requestDrain();
  }

  transferLeadership(to: NodeId): boolean {
    const ok = this.#raft.transferLeadership(to);
    this.#requestDrain();
    return ok;
  }

  /**
   * Takes a snapshot now and compacts (operators, tests); false when nothing new is applied or
   * the snapshot failed (a "snapshotFailed" event says why).
   */
  compactNow(): boolean {
    const ok = this.#takeSnapshot();
    if (ok) this.#requestDrain();
    return ok;
  }

  /**
   * Snapshots the application at ITS applied index, not Raft's: entries committed but waiting
   * (a full disk) are not in the state, so the log must keep them. A failure changes nothing
   * (the index stays, the log stays whole) and defers the next automatic try.
   */
  #takeSnapshot(): boolean {
    const index = this.#o.app.appliedIndex();
    if (index <= this.#snapshotIndex) return false;
    const now = this.#o.clock.monoMs();
    let data: Uint8Array;
    try {
      data = this.#o.app.snapshot();
    } catch (e) {
      this.#snapshotRetryAt = now +
        Math.max(this.#o.snapshotIntervalMs ?? 0, limits.snapshotRetryAfterFailureMs);
      this.#o.onEvent?.({ type: "snapshotFailed", index, error: errorMessage(e) });
      return false;
    }
    this.#snapshotIndex = index;
    this.#snapshotAt = now;
    this.#raft.compact(index, data);
    this.#o.onEvent?.({ type: "snapshotTaken", index });
    return true;
  }

  /** The current snapshot's data (what the core would send a lagging follower). */
  snapshotData(): Uint8Array | undefined {
    return this.#snapshotData;
  }

  #requestDrain(): void {
    if (this.#stopped) return;
    if (this.#o.batch === false) {
      this.#drain();
      return;
    }
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      if (!this.#stopped) this.#drain();
    });
  }

  #drain(): void {
    while (this.#raft.hasReady()) {
      const rd = this.#raft.ready();
      this.#handleReady(rd);
      this.#raft.advance();
      this.#afterAdvance();
      const cap = this.#o.maxCommittedPerReady;
      if (
        cap !== undefined && rd.committed.length >= cap && this.#raft.hasReady() &&
        this.#o.batch !== false
      ) {
        // A full batch applied and more are committed: the rest goes in a later turn, after
        // waiting I/O (requests), so a long backlog cannot hold the event loop.
        if (!this.#drainScheduled) {
          this.#drainScheduled = true;
          setTimeout(() => {
            this.#drainScheduled = false;
            if (!this.#stopped) this.#drain();
          }, 0);
        }
        return;
      }
    }
  }

  #handleReady(rd: Ready): void {
    // 1. persist: one transaction, fsync'd before anything leaves this node.
    this.#o.store.save({
      hardState: rd.hardState,
      entries: rd.entries,
      snapshot: rd.snapshot,
      compaction: rd.compaction,
    });
    // 2. send: one batch per peer.
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of rd.messages) {
      const list = byPeer.get(m.to) ?? [];
      list.push(m);
      byPeer.set(m.to, list);
    }
    for (const [to, msgs] of byPeer) this.#o.transport.send(to, msgs);
    if (rd.compaction !== undefined) this.#snapshotData = rd.compaction.snapshot.data;
    // 3. apply.
    if (rd.snapshot !== undefined) {
      this.#snapshotData = rd.snapshot.data;
      this.#o.app.restore(rd.snapshot);
      this.#snapshotIndex = rd.snapshot.meta.index;
      this.#o.onEvent?.({ type: "snapshotInstalled", index: rd.snapshot.meta.index });
    }
    if (rd.committed.length > 0) this.#o.app.apply(rd.committed);
    for (const rs of rd.readStates) this.#readyReads.push(rs);
    if (rd.role !== this.#role || rd.leader !== this.#leader) {
      this.#role = rd.role;
      this.#leader = rd.leader;
      this.#term = this.#raft.status().term;
      this.#o.onEvent?.({ type: "role", role: rd.role, term: this.#term, leader: rd.leader });
    }
  }

  #afterAdvance(): void {
    const applied = this.#o.app.appliedIndex();
    if (this.#readyReads.length > 0) {
      const ready = this.#readyReads.filter((rs) => applied >= rs.index);
      this.#readyReads = this.#readyReads.filter((rs) => applied < rs.index);
      for (const rs of ready) this.#o.onEvent?.({ type: "read", ctx: rs.ctx, index: rs.index });
    }
    const every = this.#o.snapshotThreshold ?? 0;
    const now = this.#o.clock.monoMs();
    if (
      every > 0 && applied - this.#snapshotIndex >= every &&
      now - this.#snapshotAt >= (this.#o.snapshotIntervalMs ?? 0) && now >= this.#snapshotRetryAt
    ) {
      this.#takeSnapshot();
    }
  }
}
