/**
 * Maps Raft core messages to and from their protobuf form (raft.proto). Snapshots are split into
 * bounded chunks here and reassembled by SnapshotAssembler on the receiving side.
 */
import { create } from "@bufbuild/protobuf";
import { assertNever, invalid } from "../lib/mod.ts";
import type { Entry, EntryType, Message, SnapshotRequest } from "../raft/mod.ts";
import {
  type RaftEntry,
  RaftEntrySchema,
  RaftEntryType,
  type RaftMessage,
  RaftMessageSchema,
  RaftMessageType,
  type RaftServiceSendSnapshotChunkRequest,
  RaftServiceSendSnapshotChunkRequestSchema,
} from "../gen/tock/v1/raft_pb.ts";

const entryTypeToProto: Record<EntryType, RaftEntryType> = {
  normal: RaftEntryType.NORMAL,
  config: RaftEntryType.CONFIG,
  noop: RaftEntryType.NOOP,
};

function entryToProto(e: Entry): RaftEntry {
  return create(RaftEntrySchema, {
    index: BigInt(e.index),
    term: BigInt(e.term),
    type: entryTypeToProto[e.type],
    data: e.data,
  });
}

function entryFromProto(e: RaftEntry): Entry {
  let type: EntryType;
  switch (e.type) {
    case RaftEntryType.NORMAL:
      type = "normal";
      break;
    case RaftEntryType.CONFIG:
      type = "config";
      break;
    case RaftEntryType.NOOP:
      type = "noop";
      break;
    default:
      throw invalid(`raft entry ${e.index} has unknown type ${e.type}`);
  }
  return { index: Number(e.index), term: Number(e.term), type, data: e.data };
}

const n = (v: bigint): number => Number(v);
const b = (v: number): bigint => BigInt(v);

/** Encodes every message kind except "snap" (which travels as chunks). */
export function messageToProto(m: Exclude<Message, SnapshotRequest>): RaftMessage {
  const base = { from: m.from, to: m.to, term: b(m.term) };
  switch (m.type) {
    case "preVote":
    case "vote":
      return create(RaftMessageSchema, {
        ...base,
        type: m.type === "vote" ? RaftMessageType.VOTE : RaftMessageType.PRE_VOTE,
        lastIndex: b(m.lastIndex),
        lastTerm: b(m.lastTerm),
        transfer: m.transfer,
      });
    case "preVoteResp":
    case "voteResp":
      return create(RaftMessageSchema, {
        ...base,
        type: m.type === "voteResp" ? RaftMessageType.VOTE_RESP : RaftMessageType.PRE_VOTE_RESP,
        reject: m.reject,
      });
    case "app":
      return create(RaftMessageSchema, {
        ...base,
        type: RaftMessageType.APP,
        prevIndex: b(m.prevIndex),
        prevTerm: b(m.prevTerm),
        entries: m.entries.map(entryToProto),
        commit: b(m.commit),
        session: b(m.session),
      });
    case "appResp":
      return create(RaftMessageSchema, {
        ...base,
        type: RaftMessageType.APP_RESP,
        index: b(m.index),
        reject: m.reject,
        hint: b(m.hint),
        session: b(m.session),
      });
    case "heartbeat":
      return create(RaftMessageSchema, {
        ...base,
        type: RaftMessageType.HEARTBEAT,
        commit: b(m.commit),
        ctx: m.ctx,
        session: b(m.session),
      });
    case "heartbeatResp":
      return create(RaftMessageSchema, {
        ...base,
        type: RaftMessageType.HEARTBEAT_RESP,
        ctx: m.ctx,
        session: b(m.session),
      });
    case "timeoutNow":
      return create(RaftMessageSchema, { ...base, type: RaftMessageType.TIMEOUT_NOW });
    case "readIndex":
      return create(RaftMessageSchema, { ...base, type: RaftMessageType.READ_INDEX, ctx: m.ctx });
    case "readIndexResp":
      return create(RaftMessageSchema, {
        ...base,
        type: RaftMessageType.READ_INDEX_RESP,
        ctx: m.ctx,
        index: b(m.index),
      });
    default:
      return assertNever(m, "raft message");
  }
}

export function messageFromProto(p: RaftMessage): Message {
  const base = { from: p.from, to: p.to, term: n(p.term) };
  switch (p.type) {
    case RaftMessageType.PRE_VOTE:
    case RaftMessageType.VOTE:
      return {
        ...base,
        type: p.type === RaftMessageType.VOTE ? "vote" : "preVote",
        lastIndex: n(p.lastIndex),
        lastTerm: n(p.lastTerm),
        transfer: p.transfer,
      };
    case RaftMessageType.PRE_VOTE_RESP:
    case RaftMessageType.VOTE_RESP:
      return {
        ...base,
        type: p.type === RaftMessageType.VOTE_RESP ? "voteResp" : "preVoteResp",
        reject: p.reject,
      };
    case RaftMessageType.APP:
      return {
        ...base,
        type: "app",
        prevIndex: n(p.prevIndex),
        prevTerm: n(p.prevTerm),
        entries: p.entries.map(entryFromProto),
        commit: n(p.commit),
        session: n(p.session),
      };
    case RaftMessageType.APP_RESP:
      return {
        ...base,
        type: "appResp",
        index: n(p.index),
        reject: p.reject,
        hint: n(p.hint),
        session: n(p.session),
      };
    case RaftMessageType.HEARTBEAT:
      return {
        ...base,
        type: "heartbeat",
        commit: n(p.commit),
        ctx: p.ctx,
        session: n(p.session),
      };
    case RaftMessageType.HEARTBEAT_RESP:
      return { ...base, type: "heartbeatResp", ctx: p.ctx, session: n(p.session) };
    case RaftMessageType.TIMEOUT_NOW:
      return { ...base, type: "timeoutNow" };
    case RaftMessageType.READ_INDEX:
      return { ...base, type: "readIndex", ctx: p.ctx };
    case RaftMessageType.READ_INDEX_RESP:
      return { ...base, type: "readIndexResp", ctx: p.ctx, index: n(p.index) };
    default:
      throw invalid(`unknown raft message type ${p.type} from ${p.from}`);
  }
}

/** One chunk of an InstallSnapshot: the message's header plus `data` at `offset` of the file. */
export function snapshotChunk(
  m: SnapshotRequest,
  offset: number,
  totalBytes: number,
  data: Uint8Array,
  done: boolean,
  crc?: number,
): RaftServiceSendSnapshotChunkRequest {
  return create(RaftServiceSendSnapshotChunkRequestSchema, {
    ...(done && crc !== undefined ? { crc32: crc } : {}),
    from: m.from,
    to: m.to,
    term: b(m.term),
    index: b(m.snapshot.meta.index),
    snapshotTerm: b(m.snapshot.meta.term),
    voters: [...m.snapshot.meta.config.voters],
    learners: [...m.snapshot.meta.config.learners],
    offset: b(offset),
    totalBytes: b(totalBytes),
    data,
    done,
    session: b(m.session),
  });
}

/** The InstallSnapshot message a last chunk completes, with the receiver's own snapshot data. */
export function snapshotMessage(
  c: RaftServiceSendSnapshotChunkRequest,
  data: Uint8Array,
): SnapshotRequest {
  return {
    type: "snap",
    from: c.from,
    to: c.to,
    term: n(c.term),
    session: n(c.session),
    snapshot: {
      meta: {
        index: n(c.index),
        term: n(c.snapshotTerm),
        config: { voters: [...c.voters], learners: [...c.learners] },
      },
      data,
    },
  };
}
