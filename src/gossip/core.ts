/**
 * The pure SWIM + Lifeguard membership core (memberlist's state machine) with a Serf-like layer
 * (tags, Lamport-ordered user events, member events). Synchronous: time advances only through
 * tick(), randomness comes from the Prng passed in, and every effect is returned as data by
 * takeOutput() (packets, push-pull frames, events). The shell does the IO.
 */
import { assert, assertNever, limits, type Prng, TockError } from "../lib/mod.ts";
import { BroadcastQueue, retransmitLimit } from "./broadcast.ts";
import { decodePacket, decodeStream, decodeTags, encodedMsgSize, encodeTags } from "./codec.ts";
import { type GossipConfig, validateConfig } from "./config.ts";
import { confirmSuspicion, newSuspicion, type Suspicion, suspicionMinMs } from "./suspicion.ts";
import type {
  AliveMsg,
  DeadMsg,
  GossipEvent,
  GossipStats,
  IndirectPingMsg,
  Member,
  MemberEventKind,
  Msg,
  NodeState,
  Output,
  PingMsg,
  PushPullMsg,
  QueryEvent,
  QueryMsg,
  QueryResponseMsg,
  SuspectMsg,
  UserEventMsg,
} from "./types.ts";
import { zeroStats } from "./types.ts";

export interface CoreOptions {
  /** Stable node identity; the address may change with a higher incarnation. */
  name: string;
  /** Advertised "host:port" (in the simulator, any unique string). */
  addr: string;
  config: GossipConfig;
  prng: Prng;
  tags?: Record<string, string>;
  /**
   * First incarnation. After a restart pass something larger than any earlier one (the shell
   * uses max(persisted + 1, unix seconds)) so peers that saw this node dead accept it again.
   */
  incarnation?: number;
  /** Initial clock value in ms (default 0). */
  startMs?: number;
  /**
   * A deliberate protocol bug, for the simulator's self-test only (proves the checkers can
   * fail): "ignoreRefute" makes suspicion ignore an alive with a higher incarnation.
   */
  bug?: "ignoreRefute";
}

interface NodeRecord {
  name: string;
  addr: string;
  meta: Uint8Array;
  tags: Record<string, string>;
  incarnation: number;
  state: NodeState;
  stateChangeMs: number;
}

interface ProbeState {
  seqNo: number;
  target: string;
  targetAddr: string;
  /** Incarnation seen when the probe started: a failure accuses that incarnation only. */
  incarnation: number;
  indirectAtMs: number;
  deadlineMs: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Relay {
  origSeqNo: number;
  replyTo: string;
  nack: boolean;
  deadlineMs: number;
}

/** A query this node started: who answered so far, until its deadline. */
interface OpenQuery {
  msg: QueryMsg;
  startMs: number;
  deadlineMs: number;
  responders: Set<string>;
  /** Re-asks done so far (at 1/3 and 2/3 of the timeout, gossipQueryReasksMax in all). */
  reasks: number;
}

/** A query this node received (its own included): for dedupe and to answer it once. */
interface SeenQuery {
  sourceNode: string;
  sourceAddr: string;
  deadlineMs: number;
  forgetAtMs: number;
  /** Our answer, kept to re-send when a duplicate shows the originator may have missed it. */
  response: Uint8Array | undefined;
}

interface EventSlot {
  ltime: number;
  events: UserEventMsg[];
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const utf8 = new TextEncoder();

/** Dedupe key of a query: ids are unique per originator only. */
function queryKey(source: string, id: number): string {
  return `${source}\u0000${id}`;
}

export class GossipCore {
  readonly name: string;
  readonly addr: string;
  readonly config: GossipConfig;
  readonly stats: GossipStats = zeroStats();
  readonly #prng: Prng;
  readonly #bug: CoreOptions["bug"];
  #nowMs: number;
  #incarnation: number;
  #meta: Uint8Array;
  #nodes = new Map<string, NodeRecord>();
  #probeOrder: string[] = [];
  #probeIndex = 0;
  #awareness = 0;
  #seqNo = 0;
  #probe: ProbeState | undefined;
  #relays = new Map<number, Relay>();
  #suspicions = new Map<string, Suspicion>();
  #broadcasts = new BroadcastQueue();
  #nextProbeMs: number;
  #nextGossipMs: number;
  #nextPushPullMs: number;
  #nextReapMs: number;
  #nextReconnectMs: number;
  #joinAddrs: string[] = [];
  #nextJoinMs = 0;
  #leaving = false;
  #eventClock = 0;
  #eventSlots: Array<EventSlot | undefined> = new Array(limits.gossipEventBufferSize);
  #eventKey = 0;
  #openQueries = new Map<number, OpenQuery>();
  #seenQueries = new Map<string, SeenQuery>();
  #out: Output = { packets: [], streams: [], events: [], queries: [] };

  constructor(opts: CoreOptions) {
    validateConfig(opts.config);
    assert(opts.name.length > 0, "gossip node name must not be empty");
    assert(
      utf8.encode(opts.name).length <= limits.gossipNodeNameBytesMax,
      `gossip node name "${opts.name}" longer than ${limits.gossipNodeNameBytesMax} bytes`,
    );
    this.name = opts.name;
    this.addr = opts.addr;
    this.config = opts.config;
    this.#prng = opts.prng;
    this.#bug = opts.bug;
    this.#nowMs = opts.startMs ?? 0;
    this.#incarnation = opts.incarnation ?? 1;
    assert(Number.isSafeInteger(this.#incarnation) && this.#incarnation >= 0, "bad incarnation");
    this.#meta = this.#checkedTags(opts.tags ?? {});
    this.#nodes.set(this.name, {
      name: this.name,
      addr: this.addr,
      meta: this.#meta,
      tags: { ...(opts.tags ?? {}) },
      incarnation: this.#incarnation,
      state: "alive",
      stateChangeMs: this.#nowMs,
    });
    // Spread the first probe and gossip over one interval so a cluster started at once
    // does not probe in lockstep.
    const c = this.config;
    this.#nextProbeMs = this.#nowMs + this.#jitter(c.probeIntervalMs);
    this.#nextGossipMs = this.#nowMs + this.#jitter(c.gossipIntervalMs);
    this.#nextPushPullMs = this.#nowMs + this.#jitter(c.pushPullIntervalMs);
    this.#nextReapMs = this.#nowMs + 1000;
    this.#nextReconnectMs = this.#nowMs + this.#jitter(Math.max(c.tickMs, c.reconnectIntervalMs));
  }

  // ---------------------------------------------------------------- public surface

  /** Current clock of the core in ms (starts at startMs, advances tickMs per tick). */
  get nowMs(): number {
    return this.#nowMs;
  }
  get incarnation(): number {
    return this.#incarnation;
  }
  /** Lifeguard local health score in [0, awarenessMaxMultiplier - 1]; 0 is healthy. */
  get healthScore(): number {
    return this.#awareness;
  }
  get leaving(): boolean {
    return this.#leaving;
  }
  /** Lamport time of the next user event. */
  get eventClock(): number {
    return this.#eventClock;
  }
  get tags(): Record<string, string> {
    return { ...(this.#nodes.get(this.name)?.tags ?? {}) };
  }
  /** Pending broadcasts and their transmit counts (for tests and scripts). */
  pendingBroadcasts(): Array<[string, number]> {
    return this.#broadcasts.debug();
  }

  /** Every known member, this node included, sorted by name. */
  members(): Member[] {
    return [...this.#nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((n) =>
      this.#member(n)
    );
  }

  /** One member by name, or undefined. */
  member(name: string): Member | undefined {
    const n = this.#nodes.get(name);
    return n === undefined ? undefined : this.#member(n);
  }

  /** Joins through seed addresses: push-pull to each, retried every joinRetryMs until a peer is known. */
  join(seedAddrs: readonly string[]): void {
    this.#joinAddrs = seedAddrs.filter((a) => a !== this.addr);
    this.#nextJoinMs = this.#nowMs;
    this.#maybeJoin();
  }

  /** Graceful leave: announces "left" to every member directly and by gossip; stops probing. */
  leave(): void {
    if (this.#leaving) return;
    this.#leaving = true;
    this.#joinAddrs = [];
    const msg: DeadMsg = {
      type: "dead",
      incarnation: this.#incarnation,
      node: this.name,
      from: this.name,
    };
    this.#handleDead(msg);
    for (const n of this.#nodes.values()) {
      if (n.name !== this.name && (n.state === "alive" || n.state === "suspect")) {
        this.#send(n.addr, [msg]);
      }
    }
  }

  /** Replaces this node's tags (≤ gossipTagsBytesMax encoded) and disseminates the update. */
  setTags(tags: Record<string, string>): void {
    const meta = this.#checkedTags(tags);
    if (bytesEqual(meta, this.#meta)) return;
    this.#meta = meta;
    this.#incarnation++;
    const self = this.#self();
    self.meta = meta;
    self.tags = { ...tags };
    self.incarnation = this.#incarnation;
    this.#broadcastAliveSelf();
    this.#emit("update", self);
  }

  /** Fires a user event (Lamport-ordered, deduplicated, delivered locally and to everyone). */
  userEvent(name: string, payload: Uint8Array): number {
    if (name.length === 0 || utf8.encode(name).length > limits.gossipEventNameBytesMax) {
      throw new TockError(
        "invalid",
        `user event name "${name}" must be 1..${limits.gossipEventNameBytesMax} bytes`,
      );
    }
    if (payload.length > limits.gossipUserEventBytesMax) {
      throw new TockError(
        "too_large",
        `user event "${name}" payload is ${payload.length} bytes, limit ${limits.gossipUserEventBytesMax}`,
      );
    }
    const ltime = this.#eventClock;
    this.#eventClock++;
    this.#handleUserEvent({ type: "userEvent", ltime, name, payload });
    return ltime;
  }

  /**
   * Starts a query (Serf's Query): disseminated to every member, delivered locally too, and
   * answered by each member once (core.respond) straight to this node until `timeoutMs` passes.
   * Answers arrive as queryResponse outputs, then queryDone at the deadline. Returns its id.
   */
  query(name: string, payload: Uint8Array, timeoutMs: number): number {
    if (name.length === 0 || utf8.encode(name).length > limits.gossipEventNameBytesMax) {
      throw new TockError(
        "invalid",
        `query name "${name}" must be 1..${limits.gossipEventNameBytesMax} bytes`,
      );
    }
    if (payload.length > limits.gossipQueryPayloadBytesMax) {
      throw new TockError(
        "too_large",
        `query "${name}" payload is ${payload.length} bytes, limit ${limits.gossipQueryPayloadBytesMax}`,
      );
    }
    if (
      !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > limits.gossipQueryTimeoutMsMax
    ) {
      throw new TockError(
        "invalid",
        `query "${name}" timeout ${timeoutMs} ms must be an integer in 1..${limits.gossipQueryTimeoutMsMax}`,
      );
    }
    if (this.#openQueries.size >= limits.gossipQueriesOpenMax) {
      throw new TockError(
        "overloaded",
        `${limits.gossipQueriesOpenMax} queries are already collecting answers; retry later`,
      );
    }
    let id = this.#prng.nextU32();
    while (this.#openQueries.has(id) || this.#seenQueries.has(queryKey(this.name, id))) {
      id = (id + 1) >>> 0;
    }
    const msg: QueryMsg = {
      type: "query",
      id,
      name,
      payload,
      sourceNode: this.name,
      sourceAddr: this.addr,
      timeoutMs,
    };
    this.#openQueries.set(id, {
      msg,
      startMs: this.#nowMs,
      deadlineMs: this.#nowMs + timeoutMs,
      responders: new Set(),
      reasks: 0,
    });
    this.#handleQuery(msg);
    return id;
  }

  /**
   * Answers query `id` of `from` (its originator) once, before its deadline. Throws not_found
   * for a query never seen or already forgotten, timeout past the deadline, conflict when
   * already answered, too_large over gossipQueryResponseBytesMax.
   */
  respond(from: string, id: number, payload: Uint8Array): void {
    const q = this.#seenQueries.get(queryKey(from, id));
    if (q === undefined) {
      throw new TockError("not_found", `query ${id} of "${from}" is unknown or forgotten`);
    }
    if (this.#nowMs > q.deadlineMs) {
      throw new TockError("timeout", `query ${id} of "${from}" is past its deadline`);
    }
    if (q.response !== undefined) {
      throw new TockError("conflict", `query ${id} of "${from}" was already answered`);
    }
    if (payload.length > limits.gossipQueryResponseBytesMax) {
      throw new TockError(
        "too_large",
        `query response is ${payload.length} bytes, limit ${limits.gossipQueryResponseBytesMax}`,
      );
    }
    q.response = payload;
    this.#sendQueryResponse(q, id);
  }

  /** Stops collecting answers for query `id` (no queryDone follows). False when not open. */
  closeQuery(id: number): boolean {
    return this.#openQueries.delete(id);
  }

  /** Queries this node started that still collect answers. */
  get openQueries(): number {
    return this.#openQueries.size;
  }

  /** Advances the clock by one tick and runs every timer that is due. */
  tick(): void {
    this.#nowMs += this.config.tickMs;
    const now = this.#nowMs;
    this.#checkProbe();
    for (const [seq, r] of this.#relays) {
      if (now >= r.deadlineMs) {
        this.#relays.delete(seq);
        if (r.nack) this.#send(r.replyTo, [{ type: "nack", seqNo: r.origSeqNo }]);
      }
    }
    for (const [name, s] of this.#suspicions) {
      if (now >= s.deadlineMs) {
        this.#suspicions.delete(name);
        const n = this.#nodes.get(name);
        if (n !== undefined && n.state === "suspect" && n.incarnation === s.incarnation) {
          this.#handleDead({
            type: "dead",
            incarnation: s.incarnation,
            node: name,
            from: this.name,
          });
        }
      }
    }
    for (const [id, q] of this.#openQueries) {
      if (now >= q.deadlineMs) {
        this.#openQueries.delete(id);
        this.#pushQueryEvent({
          type: "queryDone",
          id,
          name: q.msg.name,
          responses: q.responders.size,
          atMs: now,
        });
      } else this.#maybeReask(q);
    }
    if (!this.#leaving && now >= this.#nextProbeMs) this.#startProbe();
    if (now >= this.#nextGossipMs) {
      this.#nextGossipMs = now + this.config.gossipIntervalMs;
      this.#gossip();
    }
    if (this.config.pushPullIntervalMs > 0 && now >= this.#nextPushPullMs && !this.#leaving) {
      this.#nextPushPullMs = now + this.#pushPullIntervalMs();
      this.#periodicPushPull();
    }
    this.#maybeJoin();
    if (this.config.reconnectIntervalMs > 0 && now >= this.#nextReconnectMs && !this.#leaving) {
      this.#nextReconnectMs = now + this.config.reconnectIntervalMs;
      const [failed] = this.#randomNodes(1, (n) => n.state === "dead");
      if (failed !== undefined) {
        this.#out.streams.push({ to: failed.addr, msg: this.#localState(false, false) });
      }
    }
    if (now >= this.#nextReapMs) {
      this.#nextReapMs = now + 1000;
      this.#reap();
    }
  }

  /** Handles one datagram's plaintext from transport address `from`. False when dropped. */
  receive(from: string, bytes: Uint8Array): boolean {
    this.stats.packetsIn++;
    this.stats.bytesIn += bytes.length;
    if (bytes.length > limits.gossipPacketBytesMax) {
      this.stats.oversized++;
      return false;
    }
    const d = decodePacket(bytes);
    if (!d.ok) {
      this.stats.malformed++;
      return false;
    }
    this.step(from, d.value);
    return true;
  }

  /** Handles one push-pull stream frame. False when dropped. */
  receiveStream(from: string, bytes: Uint8Array): boolean {
    this.stats.bytesIn += bytes.length;
    if (bytes.length > limits.gossipStreamBytesMax) {
      this.stats.oversized++;
      return false;
    }
    const d = decodeStream(bytes);
    if (!d.ok) {
      this.stats.malformed++;
      return false;
    }
    this.step(from, [d.value]);
    return true;
  }

  /** Handles already-decoded messages (the simulator skips the codec). */
  step(from: string, msgs: readonly Msg[]): void {
    for (const m of msgs) {
      switch (m.type) {
        case "ping":
          this.#handlePing(from, m);
          break;
        case "indirectPing":
          this.#handleIndirectPing(m);
          break;
        case "ack":
          this.#handleAck(m.seqNo);
          break;
        case "nack":
          this.#handleNack(m.seqNo);
          break;
        case "alive":
          this.#handleAlive(m);
          break;
        case "suspect":
          this.#answerStaleAccusation(from, m);
          this.#handleSuspect(m);
          break;
        case "dead":
          this.#answerStaleAccusation(from, m);
          this.#handleDead(m);
          break;
        case "userEvent":
          this.#handleUserEvent(m);
          break;
        case "pushPull":
          this.#handlePushPull(m);
          break;
        case "query":
          this.#handleQuery(m);
          break;
        case "queryResponse":
          this.#handleQueryResponse(m);
          break;
        default:
          assertNever(m, "gossip message");
      }
    }
  }

  /** Takes everything produced since the last call: packets, push-pull frames and events. */
  takeOutput(): Output {
    const out = this.#out;
    this.#out = { packets: [], streams: [], events: [], queries: [] };
    return out;
  }

  // ---------------------------------------------------------------- probing (SWIM + Lifeguard)

  #startProbe(): void {
    const scale = this.config.lifeguard ? this.#awareness + 1 : 1;
    this.#nextProbeMs = this.#nowMs + this.config.probeIntervalMs * scale;
    const target = this.#nextProbeTarget();
    if (target === undefined) return;
    this.stats.probes++;
    const seqNo = this.#nextSeq();
    const msgs: Msg[] = [{
      type: "ping",
      seqNo,
      node: target.name,
      sourceNode: this.name,
      sourceAddr: this.addr,
    }];
    if (this.config.lifeguard && target.state === "suspect") {
      // Buddy system: tell the suspect directly so it can refute at once.
      msgs.push({
        type: "suspect",
        incarnation: target.incarnation,
        node: target.name,
        from: this.name,
      });
    }
    this.#probe = {
      seqNo,
      target: target.name,
      targetAddr: target.addr,
      incarnation: target.incarnation,
      indirectAtMs: this.#nowMs + this.config.probeTimeoutMs,
      deadlineMs: this.#nextProbeMs,
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
    };
    this.#send(target.addr, msgs);
  }

  #nextProbeTarget(): NodeRecord | undefined {
    for (let guard = 0; guard <= this.#probeOrder.length + 1; guard++) {
      if (this.#probeIndex >= this.#probeOrder.length) {
        this.#probeOrder = [...this.#nodes.values()]
          .filter((n) => n.name !== this.name && (n.state === "alive" || n.state === "suspect"))
          .map((n) => n.name)
          .sort();
        this.#prng.shuffle(this.#probeOrder);
        this.#probeIndex = 0;
        if (this.#probeOrder.length === 0) return undefined;
      }
      const name = this.#probeOrder[this.#probeIndex++];
      const n = name === undefined ? undefined : this.#nodes.get(name);
      if (n !== undefined && (n.state === "alive" || n.state === "suspect")) return n;
    }
    return undefined;
  }

  #checkProbe(): void {
    const p = this.#probe;
    if (p === undefined) return;
    if (!p.indirectSent && this.#nowMs >= p.indirectAtMs) {
      p.indirectSent = true;
      const peers = this.#randomNodes(
        this.config.indirectChecks,
        (n) => n.state === "alive" && n.name !== p.target,
      );
      const msg: IndirectPingMsg = {
        type: "indirectPing",
        seqNo: p.seqNo,
        node: p.target,
        nodeAddr: p.targetAddr,
        nack: this.config.lifeguard,
        sourceNode: this.name,
        sourceAddr: this.addr,
      };
      for (const peer of peers) this.#send(peer.addr, [msg]);
      this.stats.indirectProbes += peers.length;
      if (this.config.lifeguard) p.expectedNacks = peers.length;
    }
    if (this.#nowMs >= p.deadlineMs) {
      this.#probe = undefined;
      this.stats.probeFailures++;
      if (this.config.lifeguard) {
        // Missing nacks mean *we* may be the slow one (Lifeguard local health).
        const delta = p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1;
        this.#applyAwareness(delta);
      }
      const n = this.#nodes.get(p.target);
      if (n !== undefined && (n.state === "alive" || n.state === "suspect")) {
        this.#handleSuspect({
          type: "suspect",
          incarnation: p.incarnation,
          node: p.target,
          from: this.name,
        });
      }
    }
  }

  #applyAwareness(delta: number): void {
    if (!this.config.lifeguard) return;
    const max = this.config.awarenessMaxMultiplier - 1;
    this.#awareness = Math.min(max, Math.max(0, this.#awareness + delta));
  }

  #handlePing(from: string, m: PingMsg): void {
    if (m.node !== this.name) {
      this.stats.stale++;
      return;
    }
    this.#send(from, [{ type: "ack", seqNo: m.seqNo }]);
  }

  #handleIndirectPing(m: IndirectPingMsg): void {
    if (this.#relays.size >= limits.gossipRelaysMax) {
      this.stats.stale++;
      return;
    }
    const seqNo = this.#nextSeq();
    this.#relays.set(seqNo, {
      origSeqNo: m.seqNo,
      replyTo: m.sourceAddr,
      nack: m.nack,
      deadlineMs: this.#nowMs + this.#relayTimeoutMs(),
    });
    this.#send(m.nodeAddr, [{
      type: "ping",
      seqNo,
      node: m.node,
      sourceNode: this.name,
      sourceAddr: this.addr,
    }]);
  }

  /**
   * How long a relay waits for the target before its nack. The originator asked after its own
   * probeTimeout and gives up at probeInterval, so the nack must land inside that window.
   */
  #relayTimeoutMs(): number {
    const c = this.config;
    const window = Math.floor(((c.probeIntervalMs - c.probeTimeoutMs) * 0.8) / c.tickMs) * c.tickMs;
    return Math.max(c.tickMs, Math.min(c.probeTimeoutMs, window));
  }

  #handleAck(seqNo: number): void {
    const p = this.#probe;
    if (p !== undefined && p.seqNo === seqNo) {
      this.#probe = undefined;
      this.#applyAwareness(-1);
      return;
    }
    const r = this.#relays.get(seqNo);
    if (r !== undefined) {
      this.#relays.delete(seqNo);
      this.#send(r.replyTo, [{ type: "ack", seqNo: r.origSeqNo }]);
      return;
    }
    this.stats.stale++;
  }

  #handleNack(seqNo: number): void {
    const p = this.#probe;
    if (p !== undefined && p.seqNo === seqNo) {
      p.nacks++;
      return;
    }
    this.stats.stale++;
  }

  // ---------------------------------------------------------------- membership state

  #handleAlive(m: AliveMsg): void {
    if (m.node === this.name) {
      if (this.#leaving) return;
      if (m.incarnation < this.#incarnation) {
        this.stats.stale++;
        return;
      }
      if (
        m.incarnation === this.#incarnation && m.addr === this.addr &&
        bytesEqual(m.meta, this.#meta)
      ) return;
      // Someone speaks for us with a newer or conflicting record (e.g. our previous life).
      this.#refute(m.incarnation);
      return;
    }
    const tags = decodeTags(m.meta);
    if (tags === undefined) {
      this.stats.malformed++;
      return;
    }
    const n = this.#nodes.get(m.node);
    if (n === undefined) {
      if (this.#nodes.size >= limits.gossipMembersMax) {
        this.stats.queueDropped++;
        return;
      }
      const rec: NodeRecord = {
        name: m.node,
        addr: m.addr,
        meta: m.meta,
        tags,
        incarnation: m.incarnation,
        state: "alive",
        stateChangeMs: this.#nowMs,
      };
      this.#nodes.set(m.node, rec);
      // Insert at a random place in the rest of this pass so it is probed soon but fairly.
      const at = this.#prng.int(this.#probeIndex, this.#probeOrder.length + 1);
      this.#probeOrder.splice(at, 0, m.node);
      this.#broadcasts.enqueue(m.node, m);
      this.#emit("join", rec);
      return;
    }
    if (m.incarnation <= n.incarnation) {
      this.stats.stale++;
      if (n.state === "dead" && !this.#broadcasts.has(n.name)) {
        // A stale alive for a node we hold dead: it may have restarted with an old
        // incarnation. Re-gossip the accusation so it can refute (memberlist #311).
        const dead: DeadMsg = {
          type: "dead",
          incarnation: n.incarnation,
          node: n.name,
          from: this.name,
        };
        this.#broadcasts.enqueue(n.name, dead);
        this.#send(m.addr, [dead]);
      }
      return;
    }
    if (this.#bug === "ignoreRefute" && n.state === "suspect") return;
    this.#suspicions.delete(m.node);
    const was = n.state;
    const metaChanged = !bytesEqual(n.meta, m.meta);
    n.incarnation = m.incarnation;
    n.addr = m.addr;
    n.meta = m.meta;
    n.tags = tags;
    if (was !== "alive") {
      n.state = "alive";
      n.stateChangeMs = this.#nowMs;
    }
    this.#broadcasts.enqueue(m.node, m);
    if (was === "dead" || was === "left") {
      this.#emit("join", n);
    } else if (metaChanged) {
      this.#emit("update", n);
    }
  }

  #handleSuspect(m: SuspectMsg): void {
    const n = this.#nodes.get(m.node);
    if (n === undefined || m.incarnation < n.incarnation) {
      this.stats.stale++;
      return;
    }
    const s = this.#suspicions.get(m.node);
    if (s !== undefined) {
      if (confirmSuspicion(s, m.from)) this.#broadcasts.enqueue(m.node, m);
      return;
    }
    if (n.state !== "alive") return;
    if (m.node === this.name) {
      if (!this.#leaving) this.#refute(m.incarnation);
      return;
    }
    this.stats.suspects++;
    this.#broadcasts.enqueue(m.node, m);
    n.incarnation = m.incarnation;
    n.state = "suspect";
    n.stateChangeMs = this.#nowMs;
    const c = this.config;
    const live = this.#liveCount();
    let k = c.lifeguard ? c.suspicionMult - 2 : 0;
    if (live - 2 < k) k = 0;
    const minMs = suspicionMinMs(c.suspicionMult, live, c.probeIntervalMs);
    const maxMs = c.lifeguard ? c.suspicionMaxTimeoutMult * minMs : minMs;
    this.#suspicions.set(m.node, newSuspicion(m.from, m.incarnation, k, minMs, maxMs, this.#nowMs));
  }

  #handleDead(m: DeadMsg): void {
    const n = this.#nodes.get(m.node);
    if (n === undefined || m.incarnation < n.incarnation) {
      this.stats.stale++;
      return;
    }
    this.#suspicions.delete(m.node);
    if (n.state === "dead" || n.state === "left") return;
    if (m.node === this.name && !this.#leaving) {
      this.#refute(m.incarnation);
      return;
    }
    this.stats.deads++;
    this.#broadcasts.enqueue(m.node, m);
    n.incarnation = m.incarnation;
    n.state = m.from === m.node ? "left" : "dead";
    n.stateChangeMs = this.#nowMs;
    if (this.#probe?.target === m.node) this.#probe = undefined;
    this.#emit(n.state === "left" ? "leave" : "failed", n);
  }

  /**
   * A suspect/dead about us at an incarnation we already refuted means the sender (or the
   * accuser it relays for) missed our alive, whose broadcast may be used up. Answer it directly
   * so the accusation cannot outlive the refutation (seen in simulation: a suspecter that
   * missed every copy of the alive kept probing with the stale suspect until its timer fired).
   */
  #answerStaleAccusation(from: string, m: SuspectMsg | DeadMsg): void {
    if (m.node !== this.name || m.incarnation >= this.#incarnation || this.#leaving) return;
    const alive: AliveMsg = {
      type: "alive",
      incarnation: this.#incarnation,
      node: this.name,
      addr: this.addr,
      meta: this.#meta,
    };
    this.#send(from, [alive]);
    const accuser = this.#nodes.get(m.from);
    if (accuser !== undefined && accuser.addr !== from && accuser.name !== this.name) {
      this.#send(accuser.addr, [alive]);
    }
  }

  #refute(accused: number): void {
    this.stats.refutes++;
    this.#incarnation = Math.max(this.#incarnation, accused) + 1;
    assert(Number.isSafeInteger(this.#incarnation), "incarnation overflow");
    this.#self().incarnation = this.#incarnation;
    this.#broadcastAliveSelf();
    // Being accused means others find us slow (Lifeguard).
    this.#applyAwareness(1);
  }

  #broadcastAliveSelf(): void {
    this.#broadcasts.enqueue(this.name, {
      type: "alive",
      incarnation: this.#incarnation,
      node: this.name,
      addr: this.addr,
      meta: this.#meta,
    });
  }

  #reap(): void {
    for (const [key, q] of this.#seenQueries) {
      if (this.#nowMs >= q.forgetAtMs) this.#seenQueries.delete(key);
    }
    for (const n of [...this.#nodes.values()]) {
      if (n.name === this.name) continue;
      const age = this.#nowMs - n.stateChangeMs;
      if (
        (n.state === "dead" && age >= this.config.reapFailedMs) ||
        (n.state === "left" && age >= this.config.reapLeftMs)
      ) {
        this.#nodes.delete(n.name);
        this.#emit("reap", n);
      }
    }
  }

  // ---------------------------------------------------------------- dissemination

  #gossip(): void {
    if (this.#broadcasts.length === 0) return;
    const targets = this.#randomNodes(
      this.config.gossipNodes,
      (n) =>
        n.state === "alive" || n.state === "suspect" ||
        (n.state === "dead" && this.#nowMs - n.stateChangeMs < this.config.gossipToTheDeadMs),
    );
    for (const t of targets) {
      const msgs = this.#broadcasts.take(
        this.config.packetBytesMax,
        this.#retransmitLimit(),
        [],
        t.addr,
      );
      if (msgs.length === 0) break;
      this.#out.packets.push({ to: t.addr, msgs });
      this.stats.packetsOut++;
    }
  }

  /** Sends `msgs` to `to`, filling the rest of the packet with piggybacked broadcasts. */
  #send(to: string, msgs: Msg[]): void {
    if (to === this.addr) return;
    let used = 0;
    for (const m of msgs) used += encodedMsgSize(m);
    const extra = this.#broadcasts.take(
      this.config.packetBytesMax - used,
      this.#retransmitLimit(),
      msgs,
      to,
    );
    this.#out.packets.push({ to, msgs: extra.length === 0 ? msgs : [...msgs, ...extra] });
    this.stats.packetsOut++;
  }

  #retransmitLimit(): number {
    return retransmitLimit(this.config.retransmitMult, this.#liveCount());
  }

  // ---------------------------------------------------------------- push-pull anti-entropy

  #pushPullIntervalMs(): number {
    // memberlist pushPullScale: above 32 members, scale the interval by log2(n) - 4.
    const n = this.#liveCount();
    const base = this.config.pushPullIntervalMs;
    if (n <= 32) return base;
    const mult = Math.ceil(Math.log2(n) - Math.log2(32)) + 1;
    return base * mult;
  }

  #periodicPushPull(): void {
    const [peer] = this.#randomNodes(1, (n) => n.state === "alive");
    if (peer !== undefined) {
      this.#out.streams.push({ to: peer.addr, msg: this.#localState(false, false) });
    }
  }

  #maybeJoin(): void {
    if (this.#joinAddrs.length === 0 || this.#nowMs < this.#nextJoinMs) return;
    if (this.#liveCount() > 1) {
      this.#joinAddrs = [];
      return;
    }
    this.#nextJoinMs = this.#nowMs + this.config.joinRetryMs;
    for (const addr of this.#joinAddrs) {
      this.#out.streams.push({ to: addr, msg: this.#localState(true, false) });
    }
  }

  #localState(join: boolean, reply: boolean): PushPullMsg {
    const events: UserEventMsg[] = [];
    for (const slot of this.#eventSlots) {
      if (slot !== undefined && slot.ltime + limits.gossipEventBufferSize >= this.#eventClock) {
        events.push(...slot.events);
      }
    }
    events.sort((a, b) => b.ltime - a.ltime);
    return {
      type: "pushPull",
      join,
      reply,
      sourceNode: this.name,
      sourceAddr: this.addr,
      states: [...this.#nodes.values()].map((n) => ({
        node: n.name,
        addr: n.addr,
        meta: n.meta,
        incarnation: n.incarnation,
        state: n.state,
      })),
      eventLtime: this.#eventClock,
      events: events.slice(0, limits.gossipPushPullEventsMax),
    };
  }

  #handlePushPull(m: PushPullMsg): void {
    if (!m.reply && m.sourceNode !== this.name) {
      this.#out.streams.push({ to: m.sourceAddr, msg: this.#localState(false, true) });
    }
    for (const s of m.states) {
      switch (s.state) {
        case "alive":
          this.#handleAlive({
            type: "alive",
            incarnation: s.incarnation,
            node: s.node,
            addr: s.addr,
            meta: s.meta,
          });
          break;
        case "left":
          this.#handleDead({
            type: "dead",
            incarnation: s.incarnation,
            node: s.node,
            from: s.node,
          });
          break;
        case "dead":
        case "suspect":
          // Verify for ourselves: a remote "dead" only makes us suspect (memberlist).
          this.#handleSuspect({
            type: "suspect",
            incarnation: s.incarnation,
            node: s.node,
            from: m.sourceNode,
          });
          break;
        default:
          assertNever(s.state, "node state");
      }
    }
    // eventLtime is the peer's next Lamport time, not one it used: adopt it, do not pass it.
    if (m.eventLtime > this.#eventClock) this.#eventClock = m.eventLtime;
    for (const e of m.events) this.#handleUserEvent(e);
  }

  // ---------------------------------------------------------------- user events (Serf)

  #witness(ltime: number): void {
    if (ltime >= this.#eventClock) this.#eventClock = ltime + 1;
  }

  #handleUserEvent(e: UserEventMsg): void {
    this.#witness(e.ltime);
    const size = limits.gossipEventBufferSize;
    if (this.#eventClock > size && e.ltime < this.#eventClock - size) {
      this.stats.stale++;
      return;
    }
    const idx = e.ltime % size;
    let slot = this.#eventSlots[idx];
    if (slot !== undefined && slot.ltime === e.ltime) {
      for (const prev of slot.events) {
        if (prev.name === e.name && bytesEqual(prev.payload, e.payload)) {
          this.stats.stale++;
          return;
        }
      }
    } else {
      slot = { ltime: e.ltime, events: [] };
      this.#eventSlots[idx] = slot;
    }
    slot.events.push(e);
    this.#broadcasts.enqueue(`ev:${this.#eventKey++}`, e);
    this.#pushEvent({
      type: "user",
      name: e.name,
      payload: e.payload,
      ltime: e.ltime,
      atMs: this.#nowMs,
    });
  }

  // ---------------------------------------------------------------- queries (Serf)

  #handleQuery(m: QueryMsg): void {
    const key = queryKey(m.sourceNode, m.id);
    const seen = this.#seenQueries.get(key);
    if (seen !== undefined) {
      this.stats.stale++;
      // Our answer went once over UDP; a duplicate copy while the query is open is a cheap
      // moment to send it again in case it was lost (the originator deduplicates).
      if (
        seen.response !== undefined && m.sourceNode !== this.name &&
        this.#nowMs <= seen.deadlineMs
      ) {
        this.#sendQueryResponse(seen, m.id);
      }
      return;
    }
    if (this.#seenQueries.size >= limits.gossipQueriesSeenMax) {
      this.stats.queueDropped++;
      return;
    }
    const deadlineMs = this.#nowMs + m.timeoutMs;
    this.#seenQueries.set(key, {
      sourceNode: m.sourceNode,
      sourceAddr: m.sourceAddr,
      deadlineMs,
      forgetAtMs: this.#nowMs + Math.max(m.timeoutMs, limits.gossipQuerySeenMinMs),
      response: undefined,
    });
    this.#broadcasts.enqueue(`q:${key}`, m);
    this.stats.queries++;
    this.#pushQueryEvent({
      type: "query",
      id: m.id,
      from: m.sourceNode,
      name: m.name,
      payload: m.payload,
      deadlineMs,
      atMs: this.#nowMs,
    });
  }

  /**
   * Answers travel once by UDP and the query by gossip, so a member may miss one or the other.
   * At 1/3 and 2/3 of the timeout, ask every live member that has not answered again,
   * directly: a member that never got the query answers it, one that answered re-sends.
   */
  #maybeReask(q: OpenQuery): boolean {
    if (q.reasks >= limits.gossipQueryReasksMax) return false;
    const span = q.deadlineMs - q.startMs;
    const due = q.startMs + Math.floor((span * (q.reasks + 1)) / (limits.gossipQueryReasksMax + 1));
    if (this.#nowMs < due) return false;
    q.reasks++;
    for (const n of this.#nodes.values()) {
      if (
        n.name !== this.name && !q.responders.has(n.name) &&
        (n.state === "alive" || n.state === "suspect")
      ) {
        this.#send(n.addr, [q.msg]);
      }
    }
    return true;
  }

  #sendQueryResponse(q: SeenQuery, id: number): void {
    const payload = q.response;
    assert(payload !== undefined, "query response sent before it was set");
    const msg: QueryResponseMsg = { type: "queryResponse", id, from: this.name, payload };
    if (q.sourceNode === this.name) this.#handleQueryResponse(msg);
    else this.#send(q.sourceAddr, [msg]);
  }

  #handleQueryResponse(m: QueryResponseMsg): void {
    const q = this.#openQueries.get(m.id);
    if (
      q === undefined || q.responders.has(m.from) || q.responders.size >= limits.gossipMembersMax
    ) {
      this.stats.stale++;
      return;
    }
    q.responders.add(m.from);
    this.stats.queryResponses++;
    this.#pushQueryEvent({
      type: "queryResponse",
      id: m.id,
      from: m.from,
      payload: m.payload,
      atMs: this.#nowMs,
    });
  }

  #pushQueryEvent(e: QueryEvent): void {
    if (this.#out.queries.length >= limits.gossipEventsQueueMax) {
      this.stats.eventsDropped++;
      return;
    }
    this.#out.queries.push(e);
  }

  // ---------------------------------------------------------------- helpers

  #self(): NodeRecord {
    const s = this.#nodes.get(this.name);
    assert(s !== undefined, "self record missing");
    return s;
  }

  #checkedTags(tags: Record<string, string>): Uint8Array {
    const meta = encodeTags(tags);
    if (meta.length > limits.gossipTagsBytesMax) {
      throw new TockError(
        "too_large",
        `gossip tags encode to ${meta.length} bytes, limit ${limits.gossipTagsBytesMax}`,
      );
    }
    return meta;
  }

  #member(n: NodeRecord): Member {
    return {
      name: n.name,
      addr: n.addr,
      tags: { ...n.tags },
      state: n.state,
      incarnation: n.incarnation,
    };
  }

  #emit(kind: MemberEventKind, n: NodeRecord): void {
    this.#pushEvent({ type: "member", kind, member: this.#member(n), atMs: this.#nowMs });
  }

  #pushEvent(e: GossipEvent): void {
    if (this.#out.events.length >= limits.gossipEventsQueueMax) {
      this.stats.eventsDropped++;
      return;
    }
    this.#out.events.push(e);
  }

  #liveCount(): number {
    let n = 0;
    for (const r of this.#nodes.values()) if (r.state === "alive" || r.state === "suspect") n++;
    return n;
  }

  #randomNodes(k: number, keep: (n: NodeRecord) => boolean): NodeRecord[] {
    const pool = [...this.#nodes.values()].filter((n) => n.name !== this.name && keep(n));
    this.#prng.shuffle(pool);
    return pool.slice(0, k);
  }

  #nextSeq(): number {
    this.#seqNo = (this.#seqNo + 1) >>> 0;
    return this.#seqNo;
  }

  #jitter(spanMs: number): number {
    const ticks = Math.max(1, Math.floor(spanMs / this.config.tickMs));
    return this.#prng.int(1, ticks + 1) * this.config.tickMs;
  }
}
