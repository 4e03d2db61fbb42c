/**
 * A synchronous, in-memory cluster of Raft cores for paper tests and interaction scripts: one
 * mailbox per node, durable state per node (persisted on process-ready), link cuts, crash and
 * restart from durable state. No clock and no randomness beyond the seeded Prng.
 */
import { assert, assertNever, Prng } from "../lib/mod.ts";
import { type BrokenVariant, Raft, type Ready } from "./raft.ts";
import {
  type ClusterConfig,
  emptyHardState,
  encodeConfig,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Snapshot,
} from "./types.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What a node keeps across crashes. */
export interface DurableState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export interface NodeOptions {
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxInflightMsgs?: number;
  maxEntriesPerMsg?: number;
  trailingEntries?: number;
  broken?: BrokenVariant;
}

/** Initial durable state of a bootstrapped member: one committed config entry at (1, 1). */
export function bootstrapState(config: ClusterConfig): DurableState {
  return {
    hardState: { term: 1, vote: "", commit: 1 },
    snapshot: undefined,
    entries: [{ index: 1, term: 1, type: "config", data: encodeConfig(config) }],
  };
}

function seedOf(id: string, salt: number): number {
  let h = 2166136261 ^ salt;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class TestCluster {
  readonly nodes = new Map<NodeId, Raft>();
  readonly durable = new Map<NodeId, DurableState>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly options = new Map<NodeId, NodeOptions>();
  readonly mailbox = new Map<NodeId, Message[]>();
  readonly cut = new Set<string>();
  readonly salt: number;
  #restarts = 0;

  constructor(salt = 0) {
    this.salt = salt;
  }

  /** Adds bootstrapped voters (ids n1..nK by default) sharing one initial configuration. */
  addVoters(ids: NodeId[], opts: NodeOptions = {}, learners: NodeId[] = []): void {
    const config: ClusterConfig = { voters: ids, learners };
    for (const id of [...ids, ...learners]) this.addNode(id, bootstrapState(config), opts);
  }

  /** Adds a node with the given durable state (empty for a node that joins later). */
  addNode(id: NodeId, state?: DurableState, opts: NodeOptions = {}): void {
    const st = state ?? { hardState: emptyHardState, snapshot: undefined, entries: [] };
    this.durable.set(id, st);
    this.options.set(id, opts);
    this.mailbox.set(id, []);
    this.#start(id);
  }

  #start(id: NodeId): void {
    const st = this.durable.get(id);
    const opts = this.options.get(id);
    assert(st !== undefined && opts !== undefined, `unknown node ${id}`);
    const raft = new Raft(
      {
        id,
        electionTicks: opts.electionTicks ?? 10,
        heartbeatTicks: opts.heartbeatTicks ?? 1,
        prng: new Prng(seedOf(id, this.salt + this.#restarts++)),
        preVote: opts.preVote ?? true,
        checkQuorum: opts.checkQuorum ?? true,
        maxInflightMsgs: opts.maxInflightMsgs ?? 64,
        maxEntriesPerMsg: opts.maxEntriesPerMsg ?? 100,
        trailingEntries: opts.trailingEntries ?? 0,
        ...(opts.broken === undefined ? {} : { broken: opts.broken }),
      },
      {
        hardState: st.hardState,
        snapshot: st.snapshot,
        entries: st.entries,
        applied: st.snapshot?.meta.index ?? 0,
      },
    );
    this.nodes.set(id, raft);
    this.applied.set(id, snapshotEntries(st.snapshot));
  }

  node(id: NodeId): Raft {
    const n = this.nodes.get(id);
    assert(n !== undefined, `no running node ${id}`);
    return n;
  }

  /** Persists, queues messages, applies and advances one Ready. Returns it (or undefined). */
  processReady(id: NodeId): Ready | undefined {
    const n = this.node(id);
    if (!n.hasReady()) return undefined;
    const rd = n.ready();
    const st = this.durable.get(id) as DurableState;
    if (rd.snapshot !== undefined) {
      st.snapshot = rd.snapshot;
      st.entries = [];
      this.applied.set(id, snapshotEntries(rd.snapshot));
    }
    if (rd.compaction !== undefined) {
      st.snapshot = rd.compaction.snapshot;
      st.entries = st.entries.filter((e) => e.index > rd.compaction!.compactTo);
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      st.entries = st.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState !== undefined) st.hardState = rd.hardState;
    for (const m of rd.messages) this.mailbox.get(m.to)?.push(m);
    const app = this.applied.get(id) as Entry[];
    for (const e of rd.committed) app.push(e);
    n.advance();
    return rd;
  }

  /** Delivers the queued messages of `to`; cut links (and `drop`) lose them. */
  deliver(to: NodeId, drop = false): Message[] {
    const box = this.mailbox.get(to) ?? [];
    this.mailbox.set(to, []);
    const out: Message[] = [];
    for (const m of box) {
      if (drop || this.cut.has(`${m.from}->${m.to}`) || !this.nodes.has(to)) continue;
      this.node(to).step(m);
      out.push(m);
    }
    return out;
  }

  /** Runs process-ready and deliver everywhere until nothing moves; returns what happened. */
  stabilize(maxRounds = 1000): string[] {
    const log: string[] = [];
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of [...this.nodes.keys()].sort()) {
        const rd = this.processReady(id);
        if (rd !== undefined) {
          moved = true;
          log.push(...describeReady(id, rd));
        }
      }
      for (const id of [...this.mailbox.keys()].sort()) {
        const box = this.mailbox.get(id) as Message[];
        if (box.length === 0) continue;
        moved = true;
        const delivered = this.deliver(id);
        const dropped = box.length - delivered.length;
        if (dropped > 0) log.push(`${id}: dropped ${dropped} message(s)`);
      }
      if (!moved) return log;
    }
    throw new Error(`stabilize did not converge in ${maxRounds} rounds`);
  }

  /** Loses volatile state and in-flight messages of `id`; durable state stays. */
  crash(id: NodeId): void {
    this.nodes.delete(id);
    this.mailbox.set(id, []);
    for (const box of this.mailbox.values()) {
      const keep = box.filter((m) => m.from !== id);
      box.length = 0;
      box.push(...keep);
    }
  }

  restart(id: NodeId): void {
    assert(!this.nodes.has(id), `${id} is running`);
    this.#start(id);
  }

  isolate(id: NodeId): void {
    for (const other of this.durable.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  partition(groups: NodeId[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}->${y}`);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Ticks `id` n times. */
  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).tick();
  }

  /** The leader id if exactly one running node leads in the highest term, else "". */
  leader(): NodeId {
    let best: NodeId = "";
    let bestTerm = -1;
    for (const [id, n] of this.nodes) {
      const s = n.status();
      if (s.role === "leader" && s.term > bestTerm) {
        best = id;
        bestTerm = s.term;
      }
    }
    return best;
  }

  /** Applied normal-entry payloads of `id`, as strings. */
  appliedData(id: NodeId): string[] {
    return (this.applied.get(id) ?? []).filter((e) => e.type === "normal").map((e) =>
      decoder.decode(e.data)
    );
  }
}

/** The snapshot data of harness nodes is the JSON list of applied normal payloads. */
export function harnessSnapshotData(entries: readonly Entry[]): Uint8Array {
  const data = entries.filter((e) => e.type === "normal").map((e) => decoder.decode(e.data));
  return encoder.encode(JSON.stringify(data));
}

function snapshotEntries(s: Snapshot | undefined): Entry[] {
  if (s === undefined) return [];
  const list = JSON.parse(decoder.decode(s.data)) as string[];
  return list.map((d) => ({ index: 0, term: 0, type: "normal", data: encoder.encode(d) }));
}

export function describeEntry(e: Entry): string {
  const body = e.type === "normal"
    ? decoder.decode(e.data)
    : e.type === "config"
    ? `config ${decoder.decode(e.data)}`
    : "noop";
  return `${e.term}/${e.index} ${body}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case "preVote":
    case "vote":
      return `${head} last=(${m.lastTerm}/${m.lastIndex})${m.transfer ? " transfer" : ""}`;
    case "preVoteResp":
    case "voteResp":
      return `${head}${m.reject ? " rejected" : ""}`;
    case "app":
      return `${head} prev=(${m.prevTerm}/${m.prevIndex}) commit=${m.commit}` +
        (m.entries.length > 0 ? ` entries=[${m.entries.map(describeEntry).join(", ")}]` : "");
    case "appResp":
      return `${head} index=${m.index}${m.reject ? ` rejected hint=${m.hint}` : ""}`;
    case "heartbeat":
      return `${head} commit=${m.commit}${m.ctx === "" ? "" : ` ctx=${m.ctx}`}`;
    case "heartbeatResp":
      return `${head}${m.ctx === "" ? "" : ` ctx=${m.ctx}`}`;
    case "snap":
      return `${head} snapshot=(${m.snapshot.meta.term}/${m.snapshot.meta.index})`;
    case "timeoutNow":
      return head;
    case "readIndex":
      return `${head} ctx=${m.ctx}`;
    case "readIndexResp":
      return `${head} ctx=${m.ctx} index=${m.index}`;
    default:
      return assertNever(m, "message");
  }
}

export function describeReady(id: NodeId, rd: Ready): string[] {
  const out: string[] = [];
  if (rd.hardState !== undefined) {
    const hs = rd.hardState;
    out.push(`${id}: persist hardstate term=${hs.term} vote=${hs.vote || "-"} commit=${hs.commit}`);
  }
  if (rd.snapshot !== undefined) {
    out.push(`${id}: install snapshot (${rd.snapshot.meta.term}/${rd.snapshot.meta.index})`);
  }
  if (rd.compaction !== undefined) {
    const c = rd.compaction;
    out.push(
      `${id}: snapshot (${c.snapshot.meta.term}/${c.snapshot.meta.index}) compact to ${c.compactTo}`,
    );
  }
  for (const e of rd.entries) out.push(`${id}: persist ${describeEntry(e)}`);
  for (const m of rd.messages) out.push(`${id}: send ${describeMessage(m)}`);
  for (const e of rd.committed) out.push(`${id}: apply ${describeEntry(e)}`);
  for (const r of rd.readStates) out.push(`${id}: read ready ctx=${r.ctx} index=${r.index}`);
  return out;
}
