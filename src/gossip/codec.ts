/**
 * Strict protobuf codec for gossip packets. decodePacket never throws: a malformed, truncated,
 * oversized or out-of-limit packet yields an error string and is dropped whole by the caller.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type GossipMessage,
  GossipMessageSchema,
  GossipNodeState,
  GossipPacketSchema,
  type GossipPushNodeState,
  type GossipPushPull,
  GossipPushPullSchema,
  GossipTagsSchema,
  type GossipUserEvent,
} from "../gen/tock/v1/gossip_pb.ts";
import { assertNever, limits } from "../lib/mod.ts";
import type { Msg, NodeState, PushNodeState, PushPullMsg, UserEventMsg } from "./types.ts";

const utf8 = new TextEncoder();
const readOpts = { readUnknownFields: false };

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

function bad<T>(error: string): Decoded<T> {
  return { ok: false, error };
}

const toStateEnum: Record<NodeState, GossipNodeState> = {
  alive: GossipNodeState.ALIVE,
  suspect: GossipNodeState.SUSPECT,
  dead: GossipNodeState.DEAD,
  left: GossipNodeState.LEFT,
};

function fromStateEnum(s: GossipNodeState): NodeState | undefined {
  switch (s) {
    case GossipNodeState.ALIVE:
      return "alive";
    case GossipNodeState.SUSPECT:
      return "suspect";
    case GossipNodeState.DEAD:
      return "dead";
    case GossipNodeState.LEFT:
      return "left";
    default:
      return undefined;
  }
}

function userEventToWire(e: UserEventMsg): GossipUserEvent {
  return {
    $typeName: "tock.v1.GossipUserEvent",
    ltime: BigInt(e.ltime),
    name: e.name,
    payload: e.payload,
  };
}

function pushPullToWire(m: PushPullMsg): GossipPushPull {
  return create(GossipPushPullSchema, {
    join: m.join,
    reply: m.reply,
    sourceNode: m.sourceNode,
    sourceAddr: m.sourceAddr,
    states: m.states.map((s) => ({
      node: s.node,
      addr: s.addr,
      meta: s.meta,
      incarnation: BigInt(s.incarnation),
      state: toStateEnum[s.state],
    })),
    eventLtime: BigInt(m.eventLtime),
    events: m.events.map(userEventToWire),
  });
}

function msgToWire(m: Msg): GossipMessage {
  switch (m.type) {
    case "ping":
      return create(GossipMessageSchema, { kind: { case: "ping", value: m } });
    case "indirectPing":
      return create(GossipMessageSchema, { kind: { case: "indirectPing", value: m } });
    case "ack":
      return create(GossipMessageSchema, { kind: { case: "ack", value: m } });
    case "nack":
      return create(GossipMessageSchema, { kind: { case: "nack", value: m } });
    case "alive":
      return create(GossipMessageSchema, {
        kind: { case: "alive", value: { ...m, incarnation: BigInt(m.incarnation) } },
      });
    case "suspect":
      return create(GossipMessageSchema, {
        kind: { case: "suspect", value: { ...m, incarnation: BigInt(m.incarnation) } },
      });
    case "dead":
      return create(GossipMessageSchema, {
        kind: { case: "dead", value: { ...m, incarnation: BigInt(m.incarnation) } },
      });
    case "userEvent":
      return create(GossipMessageSchema, {
        kind: { case: "userEvent", value: userEventToWire(m) },
      });
    case "pushPull":
      return create(GossipMessageSchema, { kind: { case: "pushPull", value: pushPullToWire(m) } });
    case "query":
      return create(GossipMessageSchema, { kind: { case: "query", value: m } });
    case "queryResponse":
      return create(GossipMessageSchema, { kind: { case: "queryResponse", value: m } });
    default:
      return assertNever(m, "gossip message");
  }
}

/** Encodes a compound packet (several messages in one datagram or stream frame). */
export function encodePacket(msgs: readonly Msg[]): Uint8Array {
  return toBinary(
    GossipPacketSchema,
    create(GossipPacketSchema, { messages: msgs.map(msgToWire) }),
  );
}

function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Exact bytes `m` adds to an encoded packet (field tag + length prefix + body). */
export function encodedMsgSize(m: Msg): number {
  const body = toBinary(GossipMessageSchema, msgToWire(m)).length;
  return 1 + varintLen(body) + body;
}

// ---- decoding ----

function checkStr(s: string, max: number, what: string): string | undefined {
  if (s.length > max || utf8.encode(s).length > max) return `${what} longer than ${max} bytes`;
  return undefined;
}

function checkU64(v: bigint, what: string): number | string {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return `${what} ${v} beyond 2^53`;
  return Number(v);
}

function checkName(s: string, what: string): string | undefined {
  if (s.length === 0) return `${what} is empty`;
  return checkStr(s, limits.gossipNodeNameBytesMax, what);
}

function checkAddr(s: string, what: string): string | undefined {
  if (s.length === 0) return `${what} is empty`;
  return checkStr(s, limits.gossipAddrBytesMax, what);
}

function userEventFromWire(e: GossipUserEvent): Decoded<UserEventMsg> {
  const ltime = checkU64(e.ltime, "user event ltime");
  if (typeof ltime === "string") return bad(ltime);
  const err = checkStr(e.name, limits.gossipEventNameBytesMax, "user event name") ??
    (e.name.length === 0 ? "user event name is empty" : undefined) ??
    (e.payload.length > limits.gossipUserEventBytesMax
      ? `user event payload ${e.payload.length} bytes > ${limits.gossipUserEventBytesMax}`
      : undefined);
  if (err !== undefined) return bad(err);
  return { ok: true, value: { type: "userEvent", ltime, name: e.name, payload: e.payload } };
}

function pushStateFromWire(s: GossipPushNodeState): Decoded<PushNodeState> {
  const err = checkName(s.node, "push-pull node") ?? checkAddr(s.addr, "push-pull addr") ??
    (s.meta.length > limits.gossipTagsBytesMax ? "push-pull meta too large" : undefined);
  if (err !== undefined) return bad(err);
  const state = fromStateEnum(s.state);
  if (state === undefined) return bad(`push-pull state ${s.state} unknown`);
  const inc = checkU64(s.incarnation, "push-pull incarnation");
  if (typeof inc === "string") return bad(inc);
  return { ok: true, value: { node: s.node, addr: s.addr, meta: s.meta, incarnation: inc, state } };
}

function pushPullFromWire(p: GossipPushPull): Decoded<PushPullMsg> {
  const err = checkName(p.sourceNode, "push-pull source") ??
    checkAddr(p.sourceAddr, "push-pull source addr") ??
    (p.states.length > limits.gossipMembersMax
      ? `push-pull has ${p.states.length} states`
      : undefined) ??
    (p.events.length > limits.gossipPushPullEventsMax
      ? `push-pull has ${p.events.length} events`
      : undefined);
  if (err !== undefined) return bad(err);
  const ltime = checkU64(p.eventLtime, "push-pull event ltime");
  if (typeof ltime === "string") return bad(ltime);
  const states: PushNodeState[] = [];
  for (const s of p.states) {
    const d = pushStateFromWire(s);
    if (!d.ok) return d;
    states.push(d.value);
  }
  const events: UserEventMsg[] = [];
  for (const e of p.events) {
    const d = userEventFromWire(e);
    if (!d.ok) return d;
    events.push(d.value);
  }
  return {
    ok: true,
    value: {
      type: "pushPull",
      join: p.join,
      reply: p.reply,
      sourceNode: p.sourceNode,
      sourceAddr: p.sourceAddr,
      states,
      eventLtime: ltime,
      events,
    },
  };
}

function msgFromWire(w: GossipMessage): Decoded<Msg> {
  const k = w.kind;
  switch (k.case) {
    case "ping": {
      const v = k.value;
      const err = checkName(v.node, "ping node") ?? checkName(v.sourceNode, "ping source") ??
        checkAddr(v.sourceAddr, "ping source addr");
      if (err !== undefined) return bad(err);
      return {
        ok: true,
        value: {
          type: "ping",
          seqNo: v.seqNo,
          node: v.node,
          sourceNode: v.sourceNode,
          sourceAddr: v.sourceAddr,
        },
      };
    }
    case "indirectPing": {
      const v = k.value;
      const err = checkName(v.node, "indirect ping node") ??
        checkAddr(v.nodeAddr, "indirect ping node addr") ??
        checkName(v.sourceNode, "indirect ping source") ??
        checkAddr(v.sourceAddr, "indirect ping source addr");
      if (err !== undefined) return bad(err);
      return {
        ok: true,
        value: {
          type: "indirectPing",
          seqNo: v.seqNo,
          node: v.node,
          nodeAddr: v.nodeAddr,
          nack: v.nack,
          sourceNode: v.sourceNode,
          sourceAddr: v.sourceAddr,
        },
      };
    }
    case "ack":
      return { ok: true, value: { type: "ack", seqNo: k.value.seqNo } };
    case "nack":
      return { ok: true, value: { type: "nack", seqNo: k.value.seqNo } };
    case "alive": {
      const v = k.value;
      const err = checkName(v.node, "alive node") ?? checkAddr(v.addr, "alive addr") ??
        (v.meta.length > limits.gossipTagsBytesMax
          ? `alive meta ${v.meta.length} bytes`
          : undefined);
      if (err !== undefined) return bad(err);
      const inc = checkU64(v.incarnation, "alive incarnation");
      if (typeof inc === "string") return bad(inc);
      if (decodeTags(v.meta) === undefined) return bad("alive meta is not valid tags");
      return {
        ok: true,
        value: { type: "alive", incarnation: inc, node: v.node, addr: v.addr, meta: v.meta },
      };
    }
    case "suspect":
    case "dead": {
      const v = k.value;
      const err = checkName(v.node, `${k.case} node`) ?? checkName(v.from, `${k.case} from`);
      if (err !== undefined) return bad(err);
      const inc = checkU64(v.incarnation, `${k.case} incarnation`);
      if (typeof inc === "string") return bad(inc);
      return { ok: true, value: { type: k.case, incarnation: inc, node: v.node, from: v.from } };
    }
    case "userEvent":
      return userEventFromWire(k.value);
    case "pushPull":
      return pushPullFromWire(k.value);
    case "query": {
      const v = k.value;
      const err = checkStr(v.name, limits.gossipEventNameBytesMax, "query name") ??
        (v.name.length === 0 ? "query name is empty" : undefined) ??
        checkName(v.sourceNode, "query source") ?? checkAddr(v.sourceAddr, "query source addr") ??
        (v.payload.length > limits.gossipQueryPayloadBytesMax
          ? `query payload ${v.payload.length} bytes > ${limits.gossipQueryPayloadBytesMax}`
          : undefined) ??
        (v.timeoutMs === 0 || v.timeoutMs > limits.gossipQueryTimeoutMsMax
          ? `query timeout ${v.timeoutMs} ms outside 1..${limits.gossipQueryTimeoutMsMax}`
          : undefined);
      if (err !== undefined) return bad(err);
      return {
        ok: true,
        value: {
          type: "query",
          id: v.id,
          name: v.name,
          payload: v.payload,
          sourceNode: v.sourceNode,
          sourceAddr: v.sourceAddr,
          timeoutMs: v.timeoutMs,
        },
      };
    }
    case "queryResponse": {
      const v = k.value;
      const err = checkName(v.from, "query response sender") ??
        (v.payload.length > limits.gossipQueryResponseBytesMax
          ? `query response ${v.payload.length} bytes > ${limits.gossipQueryResponseBytesMax}`
          : undefined);
      if (err !== undefined) return bad(err);
      return {
        ok: true,
        value: { type: "queryResponse", id: v.id, from: v.from, payload: v.payload },
      };
    }
    case undefined:
      return bad("message without a kind");
    default:
      return assertNever(k, "gossip wire kind");
  }
}

/** Decodes a datagram's plaintext strictly against the limits. Never throws. */
export function decodePacket(bytes: Uint8Array): Decoded<Msg[]> {
  return decodeFrame(bytes, limits.gossipPacketBytesMax, false);
}

function decodeFrame(bytes: Uint8Array, maxBytes: number, stream: boolean): Decoded<Msg[]> {
  if (bytes.length > maxBytes) return bad(`packet ${bytes.length} bytes > ${maxBytes}`);
  if (bytes.length === 0) return bad("empty packet");
  let packet;
  try {
    packet = fromBinary(GossipPacketSchema, bytes, readOpts);
  } catch (e) {
    return bad(`undecodable: ${e instanceof Error ? e.message : String(e)}`);
  }
  const n = packet.messages.length;
  if (n === 0) return bad("packet has no messages");
  const maxMsgs = stream ? 1 : limits.gossipMessagesPerPacketMax;
  if (n > maxMsgs) return bad(`packet has ${n} messages > ${maxMsgs}`);
  const out: Msg[] = [];
  for (const w of packet.messages) {
    const d = msgFromWire(w);
    if (!d.ok) return d;
    // Push-pull is only accepted alone in a stream frame; in a datagram it is malformed.
    if ((d.value.type === "pushPull") !== stream) {
      return bad(`${d.value.type} not allowed in this transport`);
    }
    out.push(d.value);
  }
  return { ok: true, value: out };
}

/** Decodes one push-pull stream frame (at most gossipStreamBytesMax). Never throws. */
export function decodeStream(bytes: Uint8Array): Decoded<PushPullMsg> {
  const d = decodeFrame(bytes, limits.gossipStreamBytesMax, true);
  if (!d.ok) return d;
  const m = d.value[0];
  if (m === undefined || m.type !== "pushPull") return bad("stream frame is not a push-pull");
  return { ok: true, value: m };
}

// ---- tags ----

/** Encodes tags sorted by key (equal maps → equal bytes). Size is checked by the caller. */
export function encodeTags(tags: Readonly<Record<string, string>>): Uint8Array {
  const keys = Object.keys(tags).sort();
  return toBinary(
    GossipTagsSchema,
    create(GossipTagsSchema, { tags: keys.map((key) => ({ key, value: tags[key] ?? "" })) }),
  );
}

/** Decodes tags; undefined when the bytes are not a valid tag list. Never throws. */
export function decodeTags(meta: Uint8Array): Record<string, string> | undefined {
  if (meta.length > limits.gossipTagsBytesMax) return undefined;
  try {
    const t = fromBinary(GossipTagsSchema, meta, readOpts);
    const out: Record<string, string> = Object.create(null);
    for (const { key, value } of t.tags) {
      if (key.length === 0 || Object.hasOwn(out, key)) return undefined;
      out[key] = value;
    }
    return out;
  } catch {
    return undefined;
  }
}
