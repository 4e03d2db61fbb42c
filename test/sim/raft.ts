/**
 * Deterministic simulation of a Raft cluster running the real core (src/raft) with a KV test
 * application. One seed drives everything: the network (delay, drop, duplicate, reorder,
 * symmetric / one-way / bridge partitions via SimNet), process crashes and restarts from durable
 * state only, lost unsynced writes and torn last writes, pauses, membership changes, and clients.
 * Safety invariants are checked after every event; client histories are checked for
 * linearizability; a final liveness phase (faults healed) must elect a leader and commit.
 *
 * CLI: bun run test/sim/raft.ts --seeds N [--seed S] [--steps K] [--first F] [--verbose]
 *      [--broken vote|commit|vote-not-synced|stale-reads]   (deliberately broken variants, to see them caught)
 * Last line: raft-sim seeds=N violations=V linearizable=L/N seconds=T
 */
import { Prng } from "../../src/lib/mod.ts";
import {
  bootstrapState,
  type BrokenVariant,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  Raft,
  type Ready,
  type Snapshot,
} from "../../src/raft/mod.ts";
import {
  checkLinearizable,
  type KvInput,
  kvModel,
  type KvOutput,
  type Operation,
} from "./linearizability.ts";
import { type NetConfig, SimNet } from "./net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Sim time units per Raft tick (think: 10 ms per unit, 100 ms heartbeat tick). */
const unitsPerTick = 10;
const electionTicks = 10;
const heartbeatTicks = 1;
/** A client gives up on an operation after this many units (outcome unknown for writes). */
const clientTimeoutUnits = 600;

export interface SimOptions {
  /** Time units of the fault phase. */
  steps: number;
  broken?: BrokenVariant;
  /** A broken shell: persist the hard state without its vote (as if the vote were never fsynced). */
  voteNotSynced?: boolean;
  /** A broken read path: answer gets from the local state of any node, without ReadIndex. */
  staleReads?: boolean;
  /**
   * Snapshots as files, as the product does: the Raft snapshot carries only a descriptor naming a
   * file on the node's disk; a snapshot sent to a follower is read from the sender's file and
   * written to a file on the receiver (a transfer may be torn: nothing is delivered), which the
   * core then references. Checked after every step: a durable snapshot's file exists.
   */
  snapshotFiles?: boolean;
  /** A broken file shell: delete every snapshot file after compacting (dangling descriptors). */
  pruneAllSnapshotFiles?: boolean;
  /** Record a line per event (for --verbose and debugging). */
  trace?: boolean;
}

export interface SeedResult {
  seed: number;
  violations: string[];
  linearizable: "ok" | "illegal" | "timeout";
  traceHash: string;
  ops: number;
  committed: number;
  elections: number;
  options: string;
  trace: string[];
}

interface Durable {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

type KvCommand = { client: number; opId: number; key: string; value: string };

interface SimNode {
  id: NodeId;
  /** Snapshot files on this node's disk (survive crashes), by name. */
  disk: Map<string, Uint8Array>;
  raft: Raft | undefined;
  durable: Durable;
  kv: Map<string, string>;
  applied: number;
  pausedUntil: number;
  backlog: Message[];
  /** Highest commit index seen in this life (must never decrease). */
  commit: number;
  lastRole: string;
  restarts: number;
  /** Reads waiting for applied ≥ index: ctx → index. */
  readsReady: Array<{ ctx: string; index: number }>;
}

interface PendingOp {
  op: number;
  client: number;
  node: NodeId;
  input: KvInput;
  call: number;
  deadline: number;
  /** Writes: where the proposal landed. */
  index?: number;
  term?: number;
  /** Reads: the ReadIndex context. */
  ctx?: string;
}

class Violation extends Error {}

/** FNV-1a over trace lines, so the same seed can be shown to give the same run. */
class TraceHash {
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  add(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.h1 = Math.imul(this.h1 ^ c, 16777619) >>> 0;
      this.h2 = Math.imul(this.h2 ^ c, 2246822519) >>> 0;
    }
  }
  hex(): string {
    return this.h1.toString(16).padStart(8, "0") + this.h2.toString(16).padStart(8, "0");
  }
}

function hashBytes(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0;
  return `${b.length}:${h.toString(16)}`;
}

export function runSeed(seed: number, opts: SimOptions): SeedResult {
  const prng = new Prng(seed);
  const size = prng.next() < 0.5 ? 3 : 5;
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const netConfig: NetConfig = {
    dropRate: [0, 0.01, 0.05, 0.15][prng.int(0, 4)] as number,
    duplicateRate: [0, 0.02, 0.1][prng.int(0, 3)] as number,
    delayMin: 1,
    delayMax: [3, 10, 40][prng.int(0, 3)] as number,
  };
  const crashRate = [0, 0.0005, 0.002][prng.int(0, 3)] as number;
  const partitionRate = [0, 0.001, 0.004][prng.int(0, 3)] as number;
  const pauseRate = [0, 0.0005][prng.int(0, 2)] as number;
  const tornRate = [0, 0.3][prng.int(0, 2)] as number;
  const confRate = size === 5 ? ([0, 0.0005][prng.int(0, 2)] as number) : 0;
  const trailing = [5, 50][prng.int(0, 2)] as number;
  const transferRate = [0, 0.0005][prng.int(0, 2)] as number;
  const entriesPerMsg = [1, 4, 16][prng.int(0, 3)] as number;
  const snapEvery = [20, 200][prng.int(0, 2)] as number;
  const preVote = prng.next() < 0.8;
  const checkQuorum = prng.next() < 0.8;
  const options = `nodes=${size} drop=${netConfig.dropRate} dup=${netConfig.duplicateRate} ` +
    `delay=${netConfig.delayMin}..${netConfig.delayMax} crash=${crashRate} partition=${partitionRate} ` +
    `pause=${pauseRate} torn=${tornRate} conf=${confRate} transfer=${transferRate} perMsg=${entriesPerMsg} trailing=${trailing} snapEvery=${snapEvery} ` +
    `prevote=${preVote} checkquorum=${checkQuorum}` +
    (opts.broken ? ` broken=${JSON.stringify(opts.broken)}` : "") +
    (opts.voteNotSynced ? " broken=voteNotSynced" : "") +
    (opts.staleReads ? " broken=staleReads" : "");

  const net = new SimNet<Message>(prng, netConfig);
  const trace = new TraceHash();
  const lines: string[] = [];
  const log = (s: string) => {
    trace.add(s);
    if (opts.trace) lines.push(s);
  };
  log(`options ${options}`);

  const violations: string[] = [];
  const fail = (msg: string): never => {
    throw new Violation(msg);
  };

  // ---- global knowledge for invariants
  const leaderOfTerm = new Map<number, NodeId>();
  /** (index) → (term, payload hash) of every entry known committed anywhere. */
  /**
   * `termBound`: the highest term any leader had reached when the entry was first seen applied;
   * the entry was committed in a term ≤ termBound (an old-term entry may be committed late, by a
   * later leader, so its own term says little about when it committed).
   */
  const committedAt = new Map<number, { term: number; hash: string; termBound: number }>();
  let maxLeaderTerm = 0;
  let committedMax = 0;
  /** "index/term" → payload hash: entries with the same index and term must be identical. */
  const entryAt = new Map<string, string>();
  /** Per node, per term: the candidate it sent a granted vote to. */
  const votesSent = new Map<NodeId, Map<number, NodeId>>();
  const maxTermSent = new Map<NodeId, number>();
  let elections = 0;

  const nodes = new Map<NodeId, SimNode>();
  let restartCount = 0;
  let fileSeq = 0;

  // ---- snapshot files (opts.snapshotFiles): the core's snapshot data is {"file": name}
  const fileOf = (data: Uint8Array): string =>
    (JSON.parse(dec.decode(data)) as { file: string }).file;
  /** The application bytes of a snapshot, read through its file when snapshots are files. */
  const snapshotBytes = (n: SimNode, data: Uint8Array): Uint8Array => {
    if (!opts.snapshotFiles) return data;
    const f = n.disk.get(fileOf(data));
    if (f === undefined) fail(`${n.id} snapshot references missing file ${fileOf(data)}`);
    return f as Uint8Array;
  };
  /** Keeps the file of the durable snapshot (and the newest other one); deletes the rest. */
  const pruneFiles = (n: SimNode, keepAlso: string | undefined) => {
    if (!opts.snapshotFiles) return;
    const keep = new Set<string>();
    if (n.durable.snapshot !== undefined) keep.add(fileOf(n.durable.snapshot.data));
    if (keepAlso !== undefined) keep.add(keepAlso);
    for (const f of [...n.disk.keys()]) {
      if (opts.pruneAllSnapshotFiles || !keep.has(f)) n.disk.delete(f);
    }
  };
  const boot = bootstrapState({ voters: ids, learners: [] });
  for (const id of ids) {
    nodes.set(id, {
      id,
      raft: undefined,
      durable: { hardState: boot.hardState, snapshot: undefined, entries: [...boot.entries] },
      disk: new Map(),
      kv: new Map(),
      applied: 0,
      pausedUntil: 0,
      backlog: [],
      commit: 0,
      lastRole: "",
      restarts: 0,
      readsReady: [],
    });
  }

  const startNode = (n: SimNode) => {
    const d = n.durable;
    n.kv = new Map();
    n.applied = 0;
    if (d.snapshot !== undefined) {
      const snap = JSON.parse(dec.decode(snapshotBytes(n, d.snapshot.data))) as {
        kv: [string, string][];
      };
      n.kv = new Map(snap.kv);
      n.applied = d.snapshot.meta.index;
    }
    n.raft = new Raft(
      {
        id: n.id,
        electionTicks,
        heartbeatTicks,
        prng: new Prng((seed * 31 + restartCount++ * 7919) >>> 0),
        preVote,
        checkQuorum,
        maxInflightMsgs: 8,
        maxEntriesPerMsg: entriesPerMsg,
        trailingEntries: trailing,
        ...(opts.broken ? { broken: opts.broken } : {}),
      },
      {
        hardState: d.hardState,
        snapshot: d.snapshot,
        entries: d.entries,
        applied: n.applied,
      },
    );
    n.commit = n.raft.status().commit;
    n.lastRole = "";
    n.readsReady = [];
    const st = n.raft.status();
    const sentTerm = maxTermSent.get(n.id) ?? 0;
    if (st.term < sentTerm) {
      fail(`${n.id} restarted at term ${st.term} but had sent messages in term ${sentTerm}`);
    }
  };
  for (const n of nodes.values()) startNode(n);

  // ---- clients and history
  const history: Operation<KvInput, KvOutput>[] = [];
  const pending = new Map<number, PendingOp>();
  const clientBusy = new Set<number>();
  const clients = 3;
  const keys = ["a", "b", "c"];
  let opSeq = 0;
  let faultsOn = false;
  let valueSeq = 0;
  let now = 0;

  const finish = (p: PendingOp, output: KvOutput | undefined, ret: number) => {
    pending.delete(p.op);
    clientBusy.delete(p.client);
    history.push({ client: p.client, input: p.input, output, call: p.call, ret });
    log(`t=${now} client${p.client} ${p.input.kind} ${p.input.key} -> ${output ?? "?"}`);
  };
  const dropOp = (p: PendingOp) => {
    // A definite failure (refused, or another entry won its index): it never took effect.
    pending.delete(p.op);
    clientBusy.delete(p.client);
  };

  const checkEntry = (who: NodeId, e: Entry) => {
    const k = `${e.index}/${e.term}`;
    const h = hashBytes(e.data) + e.type;
    const prev = entryAt.get(k);
    if (prev === undefined) entryAt.set(k, h);
    else if (prev !== h) fail(`log matching: ${who} holds a different entry at ${k}`);
  };

  /** "index/term" → the terms of the 16 entries before it: logs that share an entry share its past. */
  const prefixAt = new Map<string, string>();
  const checkPrefix = (who: NodeId, r: Raft, last: Entry) => {
    const terms: number[] = [];
    for (let i = Math.max(1, last.index - 16); i < last.index; i++) {
      const t = r.termAt(i);
      if (t === undefined) return; // compacted away on this node
      terms.push(t);
    }
    const k = `${last.index}/${last.term}`;
    const v = terms.join(",");
    const prev = prefixAt.get(k);
    if (prev === undefined) prefixAt.set(k, v);
    else if (prev !== v) fail(`log matching: ${who} shares ${k} but not the entries before it`);
  };

  const applyEntry = (n: SimNode, e: Entry) => {
    const known = committedAt.get(e.index);
    const h = hashBytes(e.data) + e.type;
    if (known === undefined) {
      committedAt.set(e.index, { term: e.term, hash: h, termBound: maxLeaderTerm });
    } else if (known.term !== e.term || known.hash !== h) {
      fail(
        `state machine safety: ${n.id} applied ${e.term}/${e.index} but ${known.term}/${e.index} was applied elsewhere`,
      );
    }
    if (e.index > committedMax) committedMax = e.index;
    if (e.index !== n.applied + 1) fail(`${n.id} applied ${e.index} after ${n.applied}`);
    n.applied = e.index;
    if (e.type === "normal") {
      const cmd = JSON.parse(dec.decode(e.data)) as KvCommand;
      n.kv.set(cmd.key, cmd.value);
      const p = pending.get(cmd.opId);
      if (p !== undefined && p.node === n.id && p.index === e.index) finish(p, "ok", now);
    }
    // Writes whose index got another entry were lost: a definite failure.
    for (const p of [...pending.values()]) {
      if (p.node === n.id && p.index === e.index && p.term !== e.term) dropOp(p);
    }
  };

  /** Checks invariants that need the whole node (run after every event touching it). */
  const checkNode = (n: SimNode) => {
    if (opts.snapshotFiles && n.durable.snapshot !== undefined) {
      snapshotBytes(n, n.durable.snapshot.data); // a durable snapshot's file must exist
    }
    const r = n.raft;
    if (r === undefined) return;
    const st = r.status();
    if (st.commit < n.commit) fail(`${n.id} commit went back from ${n.commit} to ${st.commit}`);
    n.commit = st.commit;
    if (!(st.applied <= st.commit && st.commit <= st.lastIndex)) {
      fail(`${n.id} applied ${st.applied} ≤ commit ${st.commit} ≤ last ${st.lastIndex} broken`);
    }
    if (st.role === "leader") {
      const other = leaderOfTerm.get(st.term);
      if (other !== undefined && other !== n.id) {
        fail(`election safety: ${other} and ${n.id} both lead term ${st.term}`);
      }
      if (other === undefined) {
        leaderOfTerm.set(st.term, n.id);
        maxLeaderTerm = Math.max(maxLeaderTerm, st.term);
        elections++;
        log(`t=${now} ${n.id} leads term ${st.term}`);
        // Leader completeness: the new leader holds every committed entry it has not compacted.
        for (let i = Math.max(st.firstIndex, 1); i <= committedMax; i++) {
          const c = committedAt.get(i);
          const t = r.termAt(i);
          // Only entries committed in earlier terms must be there: a candidate whose votes were
          // cast long ago can still win an old term after later leaders committed more.
          if (c !== undefined && c.termBound < st.term && t !== c.term) {
            fail(
              `leader completeness: ${n.id} leads term ${st.term} without committed ${c.term}/${i}`,
            );
          }
        }
      }
      // At most one configuration change not yet committed.
      const configs = r.entries(st.commit + 1, st.lastIndex + 1).filter((e) => e.type === "config");
      if (configs.length > 1) fail(`${n.id} has ${configs.length} uncommitted config changes`);
    }
    // Committed entries never change: the node's committed prefix agrees with the global one.
    const lo = Math.max(st.firstIndex, st.commit - 5);
    for (let i = lo; i <= st.commit; i++) {
      const c = committedAt.get(i);
      const t = r.termAt(i);
      if (c !== undefined && t !== undefined && t !== c.term) {
        fail(`${n.id} holds ${t}/${i} at a committed index where ${c.term}/${i} was applied`);
      }
    }
  };

  /** persist → send → apply → advance, with an optional crash in the middle of persisting. */
  const processReady = (n: SimNode) => {
    const r = n.raft;
    if (r === undefined || !r.hasReady()) return;
    const rd: Ready = r.ready();
    const d = n.durable;
    if (
      faultsOn && crashRate > 0 && prng.next() < crashRate * 20 &&
      (rd.entries.length > 0 || rd.hardState)
    ) {
      // Crash while persisting: the batch is lost (unsynced), or its entries are torn.
      if (prng.next() < tornRate && rd.entries.length > 1) {
        const keep = prng.int(1, rd.entries.length);
        const first = (rd.entries[0] as Entry).index;
        d.entries = d.entries.filter((e) => e.index < first).concat(rd.entries.slice(0, keep));
        log(`t=${now} ${n.id} crash: torn write kept ${keep}/${rd.entries.length} entries`);
      } else {
        log(`t=${now} ${n.id} crash: unsynced batch lost`);
      }
      crash(n);
      return;
    }
    if (rd.snapshot !== undefined) {
      d.snapshot = rd.snapshot;
      d.entries = [];
    }
    if (rd.compaction !== undefined) {
      d.snapshot = rd.compaction.snapshot;
      const to = rd.compaction.compactTo;
      d.entries = d.entries.filter((e) => e.index > to);
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      for (const e of rd.entries) checkEntry(n.id, e);
      checkPrefix(n.id, r, rd.entries[rd.entries.length - 1] as Entry);
      d.entries = d.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState !== undefined) {
      if (rd.hardState.term < d.hardState.term) {
        fail(`${n.id} durable term went back ${d.hardState.term} → ${rd.hardState.term}`);
      }
      d.hardState = opts.voteNotSynced === true ? { ...rd.hardState, vote: "" } : rd.hardState;
    }
    for (const m of rd.messages) {
      // Pre-votes speak of a future term without adopting it; everything else is durable first.
      if (m.type !== "preVote" && m.type !== "preVoteResp") {
        maxTermSent.set(n.id, Math.max(maxTermSent.get(n.id) ?? 0, m.term));
      }
      if (m.type === "voteResp" && !m.reject) {
        const votes = votesSent.get(n.id) ?? new Map<number, NodeId>();
        votesSent.set(n.id, votes);
        const prior = votes.get(m.term);
        if (prior !== undefined && prior !== m.to) {
          fail(`${n.id} voted for ${prior} and ${m.to} in term ${m.term}`);
        }
        votes.set(m.term, m.to);
      }
      if (m.type === "snap" && opts.snapshotFiles) {
        // The transport reads the file it streams: a descriptor without its file is a bug.
        const bytes = snapshotBytes(n, m.snapshot.data);
        net.send(m.from, m.to, { ...m, snapshot: { ...m.snapshot, data: bytes } }, now);
        continue;
      }
      net.send(m.from, m.to, m, now);
    }
    if (rd.snapshot !== undefined) {
      const snap = JSON.parse(dec.decode(snapshotBytes(n, rd.snapshot.data))) as {
        kv: [string, string][];
      };
      n.kv = new Map(snap.kv);
      n.applied = rd.snapshot.meta.index;
      for (let i = 1; i <= rd.snapshot.meta.index; i++) {
        if (i > committedMax) committedMax = i;
      }
    }
    for (const e of rd.committed) applyEntry(n, e);
    for (const rs of rd.readStates) n.readsReady.push(rs);
    r.advance();
    // Serve reads whose index is applied.
    n.readsReady = n.readsReady.filter((rs) => {
      if (n.applied < rs.index) return true;
      for (const p of pending.values()) {
        if (p.ctx === rs.ctx && p.node === n.id) finish(p, n.kv.get(p.input.key) ?? null, now);
      }
      return false;
    });
    if (n.applied - (n.durable.snapshot?.meta.index ?? 0) >= snapEvery) {
      const data = enc.encode(JSON.stringify({ kv: [...n.kv] }));
      if (opts.snapshotFiles) {
        const file = `snap-${n.id}-${n.applied}-${++fileSeq}`;
        n.disk.set(file, data);
        r.compact(n.applied, enc.encode(JSON.stringify({ file })));
        pruneFiles(n, file);
      } else r.compact(n.applied, data);
    }
    checkNode(n);
  };

  const crash = (n: SimNode) => {
    n.raft = undefined;
    n.backlog = [];
    net.dropFor(n.id);
    // Clients waiting on this node time out (writes may or may not have taken effect).
  };

  const restart = (n: SimNode) => {
    n.restarts++;
    log(`t=${now} ${n.id} restart`);
    startNode(n);
    checkNode(n);
  };

  const liveIds = () => ids.filter((id) => nodes.get(id)?.raft !== undefined);

  const startClientOp = (client: number) => {
    const live = liveIds();
    if (live.length === 0) return;
    // Ask a node that believes it leads, else a random live node.
    let target = live[prng.int(0, live.length)] as NodeId;
    for (const id of live) if (nodes.get(id)?.raft?.status().role === "leader") target = id;
    const n = nodes.get(target) as SimNode;
    const r = n.raft as Raft;
    const key = keys[prng.int(0, keys.length)] as string;
    const op = opSeq++;
    if (prng.next() < 0.5) {
      const value = `v${valueSeq++}`;
      const input: KvInput = { kind: "put", key, value };
      const res = r.propose(enc.encode(JSON.stringify({ client, opId: op, key, value })));
      if (!res.ok) return;
      clientBusy.add(client);
      pending.set(op, {
        op,
        client,
        node: target,
        input,
        call: now,
        deadline: now + clientTimeoutUnits,
        index: res.index,
        term: res.term,
      });
    } else {
      const ctx = `r${op}`;
      if (opts.staleReads === true) {
        const local = nodes.get(live[prng.int(0, live.length)] as NodeId) as SimNode;
        history.push({
          client,
          input: { kind: "get", key },
          output: local.kv.get(key) ?? null,
          call: now,
          ret: now,
        });
        return;
      }
      if (!r.readIndex(ctx)) return;
      clientBusy.add(client);
      pending.set(op, {
        op,
        client,
        node: target,
        input: { kind: "get", key },
        call: now,
        deadline: now + clientTimeoutUnits,
        ctx,
      });
    }
  };

  const deliver = (m: Message) => {
    const n = nodes.get(m.to);
    if (n?.raft === undefined) return;
    if (n.pausedUntil > now) {
      n.backlog.push(m);
      return;
    }
    if (m.type === "snap" && opts.snapshotFiles) {
      // The chunks land in a file on the receiver; a torn transfer delivers nothing.
      if (prng.next() < tornRate) {
        log(`t=${now} ${n.id} snapshot transfer from ${m.from} torn`);
        return;
      }
      const file = `recv-${n.id}-${m.from}-${m.snapshot.meta.index}-${++fileSeq}`;
      n.disk.set(file, m.snapshot.data);
      n.raft.step({
        ...m,
        snapshot: { ...m.snapshot, data: enc.encode(JSON.stringify({ file })) },
      });
      processReady(n);
      if (n.durable.snapshot === undefined || fileOf(n.durable.snapshot.data) !== file) {
        n.disk.delete(file); // the core refused it (stale): the file is not referenced
      } else {
        log(`t=${now} ${n.id} installed snapshot file ${file}`);
        pruneFiles(n, undefined);
      }
      return;
    }
    n.raft.step(m);
    processReady(n);
  };

  const confChangeStep = () => {
    // Remove a random non-leader voter, or add back a removed one (as learner, then promoted).
    for (const id of ids) {
      const r = nodes.get(id)?.raft;
      if (r === undefined || r.status().role !== "leader") continue;
      const st = r.status();
      const removed = ids.filter((x) =>
        !st.config.voters.includes(x) && !st.config.learners.includes(x)
      );
      if (removed.length > 0 && prng.next() < 0.6) {
        const x = removed[prng.int(0, removed.length)] as NodeId;
        const res = r.proposeConfChange({ type: "addVoter", node: x });
        log(`t=${now} conf addVoter ${x}: ${res.ok ? "ok" : res.reason}`);
      } else if (st.config.voters.length > 3) {
        const cands = st.config.voters.filter((x) => x !== id);
        const x = cands[prng.int(0, cands.length)] as NodeId;
        const res = r.proposeConfChange({ type: "remove", node: x });
        log(`t=${now} conf remove ${x}: ${res.ok ? "ok" : res.reason}`);
      }
      processReady(nodes.get(id) as SimNode);
      return;
    }
  };

  const step = (faults: boolean) => {
    now++;
    for (const f of net.deliverDue(now)) deliver(f.msg);
    for (const n of nodes.values()) {
      if (n.raft === undefined) continue;
      if (n.pausedUntil > 0 && n.pausedUntil <= now) {
        n.pausedUntil = 0;
        const backlog = n.backlog;
        n.backlog = [];
        for (const m of backlog) if (n.raft !== undefined) deliver(m);
      }
      if (n.raft === undefined || n.pausedUntil > now) continue;
      // Nodes tick at slightly different phases, as real clocks do.
      if ((now + ids.indexOf(n.id) * 3) % unitsPerTick === 0) {
        n.raft.tick();
        processReady(n);
      }
    }
    if (faults) {
      for (const n of nodes.values()) {
        if (n.raft !== undefined && prng.next() < crashRate) {
          log(`t=${now} ${n.id} crash`);
          crash(n);
        } else if (n.raft === undefined && prng.next() < 0.01) {
          restart(n);
        } else if (n.raft !== undefined && n.pausedUntil === 0 && prng.next() < pauseRate) {
          n.pausedUntil = now + prng.int(50, 400);
          log(`t=${now} ${n.id} paused until ${n.pausedUntil}`);
        }
      }
      if (prng.next() < partitionRate) {
        net.heal();
        const kind = prng.int(0, 4);
        const shuffled = prng.shuffle([...ids]);
        if (kind === 0) {
          const cut = prng.int(1, size);
          net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        } else if (kind === 1) {
          net.cutOneWay(shuffled[0] as NodeId, shuffled[1] as NodeId);
        } else if (kind === 2 && size >= 3) {
          net.bridge([shuffled[0] as NodeId], shuffled[1] as NodeId, shuffled.slice(2));
        } else {
          net.isolate(shuffled[0] as NodeId, ids);
        }
        log(`t=${now} partition kind=${kind} ${shuffled.join(",")}`);
      } else if (prng.next() < partitionRate * 2) {
        net.heal();
        log(`t=${now} heal`);
      }
      if (confRate > 0 && prng.next() < confRate) confChangeStep();
      if (prng.next() < transferRate) {
        for (const n of nodes.values()) {
          const st = n.raft?.status();
          if (st?.role !== "leader") continue;
          const to = st.config.voters[prng.int(0, st.config.voters.length)] as NodeId;
          log(`t=${now} ${n.id} transfer to ${to}: ${n.raft?.transferLeadership(to)}`);
          processReady(n);
        }
      }
    }
    // Clients.
    for (let c = 0; c < clients; c++) {
      if (!clientBusy.has(c) && prng.next() < 0.05) startClientOp(c);
    }
    for (const p of [...pending.values()]) {
      if (p.deadline > now) continue;
      // Timed out: a write's outcome is unknown; a read has no effect and is dropped.
      pending.delete(p.op);
      clientBusy.delete(p.client);
      if (p.input.kind === "put") {
        history.push({
          client: p.client,
          input: p.input,
          output: undefined,
          call: p.call,
          ret: Infinity,
        });
      }
    }
  };

  let linearizable: "ok" | "illegal" | "timeout" = "ok";
  try {
    faultsOn = true;
    for (let i = 0; i < opts.steps; i++) step(true);
    // Liveness phase: heal everything, restart everyone, and require progress.
    net.heal();
    net.setConfig({ dropRate: 0, duplicateRate: 0, delayMin: 1, delayMax: 3 });
    for (const n of nodes.values()) {
      n.pausedUntil = now;
      if (n.raft === undefined) restart(n);
    }
    faultsOn = false;
    for (const n of nodes.values()) if (n.raft === undefined) restart(n);
    log(`t=${now} liveness phase`);
    const startCommitted = committedMax;
    let progressed = false;
    const livenessUnits = 40 * electionTicks * unitsPerTick;
    for (let i = 0; i < livenessUnits && !progressed; i++) {
      step(false);
      if (i % 50 === 0) {
        // Propose through whoever leads; progress = a new entry applied on every voter.
        for (const n of nodes.values()) {
          const r = n.raft;
          if (r?.status().role === "leader") {
            r.propose(
              enc.encode(JSON.stringify({ client: -1, opId: -1, key: "z", value: `live${i}` })),
            );
          }
          if (r !== undefined) processReady(n);
        }
      }
      if (committedMax > startCommitted) {
        const voters = [...nodes.values()].map((n) =>
          n.raft?.status()
        ).find((s) => s?.role === "leader")?.config.voters ?? [];
        progressed = voters.length > 0 &&
          voters.every((id) => (nodes.get(id)?.applied ?? 0) >= committedMax);
      }
    }
    if (!progressed) {
      fail(`liveness: no commit reached every voter within ${livenessUnits} units after healing`);
    }
    // Outstanding operations end unknown.
    for (const p of [...pending.values()]) {
      if (p.input.kind === "put") {
        history.push({
          client: p.client,
          input: p.input,
          output: undefined,
          call: p.call,
          ret: Infinity,
        });
      }
    }
    linearizable = checkLinearizable(kvModel, history);
    if (linearizable === "illegal") violations.push("history is not linearizable");
  } catch (e) {
    violations.push(
      e instanceof Violation ? e.message : `crash: ${(e as Error).stack ?? String(e)}`,
    );
    linearizable = history.length === 0 ? "ok" : checkLinearizable(kvModel, history);
  }
  log(`end t=${now} committed=${committedMax} violations=${violations.length}`);
  return {
    seed,
    violations,
    linearizable,
    traceHash: trace.hex(),
    ops: history.length,
    committed: committedMax,
    elections,
    options,
    trace: lines,
  };
}

function parseArgs(argv: string[]): {
  seeds: number;
  seed?: number;
  steps: number;
  broken?: BrokenVariant;
  voteNotSynced: boolean;
  staleReads: boolean;
  verbose: boolean;
  first: number;
} {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const brokenName = get("--broken");
  const broken: BrokenVariant | undefined = brokenName === undefined
    ? undefined
    : brokenName === "vote"
    ? { voteWithoutLogCheck: true }
    : brokenName === "commit"
    ? { commitOldTermByCounting: true }
    : undefined;
  const seedArg = get("--seed");
  return {
    seeds: Number(get("--seeds") ?? (seedArg === undefined ? "100" : "1")),
    ...(seedArg === undefined ? {} : { seed: Number(seedArg) }),
    steps: Number(get("--steps") ?? "3000"),
    ...(broken === undefined ? {} : { broken }),
    voteNotSynced: brokenName === "vote-not-synced",
    staleReads: brokenName === "stale-reads",
    verbose: argv.includes("--verbose"),
    first: Number(get("--first") ?? "1"),
  };
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  let violations = 0;
  let linearizable = 0;
  const seeds = args.seed !== undefined
    ? [args.seed]
    : Array.from({ length: args.seeds }, (_, i) => args.first + i);
  for (const seed of seeds) {
    const opts: SimOptions = {
      steps: args.steps,
      trace: args.verbose,
      voteNotSynced: args.voteNotSynced,
      staleReads: args.staleReads,
      ...(args.broken ? { broken: args.broken } : {}),
    };
    const r = runSeed(seed, opts);
    if (args.verbose) { for (const l of r.trace) console.log(l); }
    if (r.linearizable === "ok") linearizable++;
    if (r.violations.length > 0) {
      violations++;
      console.log(`seed ${seed} FAILED (${r.options}): ${r.violations.join("; ")}`);
      console.log(
        `  replay: bun run test/sim/raft.ts --seed ${seed} --steps ${args.steps} --verbose`,
      );
    } else if (args.seed !== undefined) {
      console.log(
        `seed ${seed} ok hash=${r.traceHash} ops=${r.ops} committed=${r.committed} (${r.options})`,
      );
    }
  }
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `raft-sim seeds=${seeds.length} violations=${violations} linearizable=${linearizable}/${seeds.length} seconds=${seconds}`,
  );
  process.exit(violations > 0 ? 1 : 0);
}
