/** Plain-data messages, member records and outputs of the gossip core. */

/** A node's state as seen by one member (memberlist's states plus Serf's "left"). */
export type NodeState = "alive" | "suspect" | "dead" | "left";

export interface PingMsg {
  type: "ping";
  seqNo: number;
  /** Name of the intended target: a node with another name ignores the ping. */
  node: string;
  sourceNode: string;
  sourceAddr: string;
}
export interface IndirectPingMsg {
  type: "indirectPing";
  seqNo: number;
  node: string;
  nodeAddr: string;
  /** Ask the relay to answer with a nack when the target does not ack in time (Lifeguard). */
  nack: boolean;
  sourceNode: string;
  sourceAddr: string;
}
export interface AckMsg {
  type: "ack";
  seqNo: number;
}
export interface NackMsg {
  type: "nack";
  seqNo: number;
}
export interface AliveMsg {
  type: "alive";
  incarnation: number;
  node: string;
  addr: string;
  /** Encoded tags (see encodeTags), at most tagsBytesMax. */
  meta: Uint8Array;
}
export interface SuspectMsg {
  type: "suspect";
  incarnation: number;
  node: string;
  from: string;
}
/** A dead message whose `from` equals `node` is a graceful leave. */
export interface DeadMsg {
  type: "dead";
  incarnation: number;
  node: string;
  from: string;
}
export interface UserEventMsg {
  type: "userEvent";
  ltime: number;
  name: string;
  payload: Uint8Array;
}
/**
 * A Serf-like query: disseminated like a user event (deduplicated by source and id), answered
 * by each member with one QueryResponseMsg sent straight to `sourceAddr`.
 */
export interface QueryMsg {
  type: "query";
  id: number;
  name: string;
  payload: Uint8Array;
  sourceNode: string;
  sourceAddr: string;
  /** Relative: a receiver answers until its receive time plus this. */
  timeoutMs: number;
}
export interface QueryResponseMsg {
  type: "queryResponse";
  /** The query's id; with `to` implicit (responses go to the originator only). */
  id: number;
  from: string;
  payload: Uint8Array;
}
export interface PushNodeState {
  node: string;
  addr: string;
  meta: Uint8Array;
  incarnation: number;
  state: NodeState;
}
export interface PushPullMsg {
  type: "pushPull";
  join: boolean;
  reply: boolean;
  sourceNode: string;
  sourceAddr: string;
  states: PushNodeState[];
  eventLtime: number;
  events: UserEventMsg[];
}

/** Every gossip message (a tagged union; handled by exhaustive switches). */
export type Msg =
  | PingMsg
  | IndirectPingMsg
  | AckMsg
  | NackMsg
  | AliveMsg
  | SuspectMsg
  | DeadMsg
  | UserEventMsg
  | PushPullMsg
  | QueryMsg
  | QueryResponseMsg;

/** A datagram to send: the shell encodes, encrypts and sends it over UDP. */
export interface OutPacket {
  to: string;
  msgs: Msg[];
}
/** A push-pull frame to send over a stream (TCP in the shell). */
export interface OutStream {
  to: string;
  msg: PushPullMsg;
}

/** A member as reported to users of the core. */
export interface Member {
  name: string;
  addr: string;
  tags: Record<string, string>;
  state: NodeState;
  incarnation: number;
}

export type MemberEventKind = "join" | "update" | "leave" | "failed" | "reap";

/** Events delivered to the node (Serf's event stream). */
export type GossipEvent =
  | { type: "member"; kind: MemberEventKind; member: Member; atMs: number }
  | { type: "user"; name: string; payload: Uint8Array; ltime: number; atMs: number };

/**
 * Query traffic for the node, kept apart from GossipEvent so member/user listeners are unchanged.
 * query: answer with core.respond(from, id, payload) before deadlineMs (core time);
 * queryResponse: one member's answer to a query this node started (one per member);
 * queryDone: a query this node started reached its deadline (not emitted after closeQuery).
 */
export type QueryEvent =
  | {
    type: "query";
    id: number;
    from: string;
    name: string;
    payload: Uint8Array;
    deadlineMs: number;
    atMs: number;
  }
  | { type: "queryResponse"; id: number; from: string; payload: Uint8Array; atMs: number }
  | { type: "queryDone"; id: number; name: string; responses: number; atMs: number };

/** Everything the core wants done since the last takeOutput(). */
export interface Output {
  packets: OutPacket[];
  streams: OutStream[];
  events: GossipEvent[];
  queries: QueryEvent[];
}

/** Counters for drops and protocol activity; every drop is counted, never silent. */
export interface GossipStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets that failed to decode or broke a limit (dropped whole). */
  malformed: number;
  /** Packets over the size limit (dropped whole). */
  oversized: number;
  /** Packets that failed decryption, label or plaintext-with-keyring checks (shell side). */
  rejected: number;
  /** Messages ignored as stale or replayed (old incarnation, unknown seq, duplicate event). */
  stale: number;
  /** Broadcasts dropped because the queue was full. */
  queueDropped: number;
  /** Events dropped because the output was not drained. */
  eventsDropped: number;
  probes: number;
  probeFailures: number;
  indirectProbes: number;
  suspects: number;
  refutes: number;
  deads: number;
  /** Queries received and handed to the node (duplicates excluded). */
  queries: number;
  /** Query responses accepted by this node as originator. */
  queryResponses: number;
}

export function zeroStats(): GossipStats {
  return {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    malformed: 0,
    oversized: 0,
    rejected: 0,
    stale: 0,
    queueDropped: 0,
    eventsDropped: 0,
    probes: 0,
    probeFailures: 0,
    indirectProbes: 0,
    suspects: 0,
    refutes: 0,
    deads: 0,
    queries: 0,
    queryResponses: 0,
  };
}
