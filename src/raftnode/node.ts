/**
 * The Raft shell: owns one pure Raft core, its durable log store, a transport and the KV test
 * application. Every input (tick, peer message, client call) is handled synchronously and then
 * the Ready is drained in the fixed order persist (one fsync'd transaction) → send → apply →
 * advance, so nothing is sent or acknowledged before it is durable, and no term read before an
 * await is ever used after it (there is no await between input and drain).
 */
import { setImmediate } from "node:timers";
import { limits, Prng, TockError } from "../lib/mod.ts";
import {
  bootstrapState,
  type ClusterConfig,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
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

export type RaftNodeEvent =
  | {
    readonly type: "role";
    readonly role: Role;
    readonly term: number;
    readonly leader: NodeId;
  }
  /** A snapshot from the leader replaced this node's log and state. */
  | { readonly type: "snapshotInstalled"; readonly index: number; readonly bytes: number };

export interface RaftNodeOptions {
  readonly id: NodeId;
  readonly store: LogStore;
  readonly transport: Transport;
  /** Milliseconds per Raft tick (the heartbeat interval when heartbeatTicks = 1). */
  readonly tickMs: number;
  /** Election timeout base in ticks (randomized to [base, 2 × base)). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Seed for the election-timeout PRNG (e.g. derived from the id and the start time). */
  readonly seed: number;
  /** Initial members when the store is empty (a fresh cluster); omit for a node that joins later. */
  readonly bootstrap?: ClusterConfig;
  /** Take a KV snapshot and compact after this many applied entries. */
  readonly snapshotEvery?: number;
  readonly trailingEntries?: number;
  /**
   * Group every input that arrives in one event-loop turn into one Ready (one fsync, one RPC per
   * peer). Default true; false drains after each input (lower latency at low load, for benches).
   */
  readonly batch?: boolean;
  readonly onEvent?: (e: RaftNodeEvent) => void;
}

interface KvCommand {
  k: string;
  v: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A Raft node running the replicated KV test application. */
export class RaftNode {
  readonly id: NodeId;
  readonly #raft: Raft;
  readonly #opts: RaftNodeOptions;
  #kv = new Map<string, string>();
  #applied = 0;
  #snapshotIndex = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #role: Role = "follower";
  #leader: NodeId = "";
  #term = 0;
  #readSeq = 0;
  readonly #waitingWrites = new Map<
    number,
    { term: number; resolve: (i: number) => void; reject: (e: Error) => void }
  >();
  readonly #waitingReads = new Map<
    string,
    { key: string; resolve: (v: string | undefined) => void; reject: (e: Error) => void }
  >();
  #readyReads: Array<{ ctx: string; index: number }> = [];
  #stopped = false;
  #drainScheduled = false;

  constructor(opts: RaftNodeOptions) {
    this.id = opts.id;
    this.#opts = opts;
    let state = opts.store.load();
    if (state.entries.length === 0 && state.snapshot === undefined && opts.bootstrap) {
      opts.store.save(bootstrapState(opts.bootstrap));
      state = opts.store.load();
    }
    if (state.snapshot !== undefined) this.#restoreSnapshot(state.snapshot);
    this.#raft = new Raft(
      {
        id: opts.id,
        electionTicks: opts.electionTicks,
        heartbeatTicks: opts.heartbeatTicks,
        prng: new Prng(opts.seed),
        ...(opts.trailingEntries === undefined ? {} : { trailingEntries: opts.trailingEntries }),
      },
      {
        hardState: state.hardState,
        snapshot: state.snapshot,
        entries: state.entries,
        applied: this.#applied,
      },
    );
    this.#term = this.#raft.status().term;
  }

  /** Starts ticking. */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#stopped) return;
      this.#raft.tick();
      this.#requestDrain();
    }, this.#opts.tickMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const err = new TockError("unavailable", `${this.id} is shutting down`);
    for (const w of this.#waitingWrites.values()) w.reject(err);
    for (const r of this.#waitingReads.values()) r.reject(err);
    this.#waitingWrites.clear();
    this.#waitingReads.clear();
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

  /** Writes key = value; resolves with the log index once applied here. */
  put(key: string, value: string): Promise<number> {
    const res = this.#raft.propose(enc.encode(JSON.stringify({ k: key, v: value } as KvCommand)));
    if (!res.ok) {
      const kind = res.reason === "not_leader" || res.reason === "transferring"
        ? "not_leader"
        : res.reason === "overloaded"
        ? "unavailable"
        : "conflict";
      return Promise.reject(new TockError(kind, res.message, res.leader));
    }
    const p = new Promise<number>((resolve, reject) => {
      // A partitioned or deposed leader may never apply this index: fail as "unknown outcome".
      const timer = setTimeout(() => {
        if (this.#waitingWrites.delete(res.index)) {
          reject(
            new TockError("timeout", `write at ${res.index} not applied in time: outcome unknown`),
          );
        }
      }, limits.proposeTimeoutMs);
      this.#waitingWrites.set(res.index, {
        term: res.term,
        resolve: (i) => {
          clearTimeout(timer);
          resolve(i);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    this.#requestDrain();
    return p;
  }

  /** Linearizable read through ReadIndex (forwarded to the leader when this node follows). */
  get(key: string): Promise<string | undefined> {
    const ctx = `${this.id}:${++this.#readSeq}`;
    if (!this.#raft.readIndex(ctx)) {
      return Promise.reject(new TockError("not_leader", `${this.id} knows no leader`, ""));
    }
    const p = new Promise<string | undefined>((resolve, reject) => {
      // A ReadIndex request or its answer can be lost: give up after the propose timeout.
      const timer = setTimeout(() => {
        if (this.#waitingReads.delete(ctx)) {
          reject(new TockError("timeout", `read ${ctx} not confirmed by a quorum in time`));
        }
      }, limits.proposeTimeoutMs);
      this.#waitingReads.set(ctx, {
        key,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    this.#requestDrain();
    return p;
  }

  status(): Status {
    return this.#raft.status();
  }

  transferLeadership(to: NodeId): boolean {
    const ok = this.#raft.transferLeadership(to);
    this.#drain();
    return ok;
  }

  #requestDrain(): void {
    if (this.#opts.batch === false) {
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
    }
  }

  #handleReady(rd: Ready): void {
    // 1. persist: one transaction, fsync'd before anything leaves this node.
    this.#opts.store.save({
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
    for (const [to, msgs] of byPeer) this.#opts.transport.send(to, msgs);
    // 3. apply.
    if (rd.snapshot !== undefined) {
      this.#restoreSnapshot(rd.snapshot);
      this.#opts.onEvent?.({
        type: "snapshotInstalled",
        index: rd.snapshot.meta.index,
        bytes: rd.snapshot.data.length,
      });
    }
    for (const e of rd.committed) this.#apply(e);
    for (const rs of rd.readStates) this.#readyReads.push(rs);
    if (rd.role !== this.#role || rd.leader !== this.#leader) {
      this.#role = rd.role;
      this.#leader = rd.leader;
      this.#term = this.#raft.status().term;
      this.#opts.onEvent?.({ type: "role", role: rd.role, term: this.#term, leader: rd.leader });
    }
  }

  #afterAdvance(): void {
    this.#readyReads = this.#readyReads.filter((rs) => {
      if (this.#applied < rs.index) return true;
      const r = this.#waitingReads.get(rs.ctx);
      if (r !== undefined) {
        this.#waitingReads.delete(rs.ctx);
        r.resolve(this.#kv.get(r.key));
      }
      return false;
    });
    const every = this.#opts.snapshotEvery ?? 0;
    if (every > 0 && this.#applied - this.#snapshotIndex >= every) {
      this.#snapshotIndex = this.#applied;
      this.#raft.compact(this.#applied, enc.encode(JSON.stringify([...this.#kv])));
    }
  }

  #apply(e: Entry): void {
    this.#applied = e.index;
    if (e.type === "normal") {
      const cmd = JSON.parse(dec.decode(e.data)) as KvCommand;
      this.#kv.set(cmd.k, cmd.v);
    }
    const w = this.#waitingWrites.get(e.index);
    if (w !== undefined) {
      this.#waitingWrites.delete(e.index);
      if (w.term === e.term) w.resolve(e.index);
      else {
        w.reject(new TockError("unavailable", `write at ${e.index} was replaced (leader changed)`));
      }
    }
  }

  #restoreSnapshot(s: Snapshot): void {
    this.#kv = new Map(JSON.parse(dec.decode(s.data)) as Array<[string, string]>);
    this.#applied = s.meta.index;
    this.#snapshotIndex = s.meta.index;
  }
}
