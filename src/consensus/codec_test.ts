// Proves the wire codec: every Raft message kind survives a protobuf round trip unchanged, and a
// multi-megabyte snapshot file streamed in bounded chunks lands byte for byte (a chunk that
// does not continue the transfer is refused, not mis-assembled; bytes that differ from the
// sender's file are refused by CRC-32, and a file damaged on disk fails verify).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Message, SnapshotRequest } from "../raft/mod.ts";
import {
  RaftMessageSchema,
  RaftServiceSendSnapshotChunkRequestSchema,
} from "../gen/tock/v1/raft_pb.ts";
import { messageFromProto, messageToProto, snapshotChunk, snapshotMessage } from "./codec.ts";
import { decodeDescriptor, encodeDescriptor, SnapshotDir } from "./snapshot_files.ts";

const enc = new TextEncoder();
const base = { from: "n1", to: "n2", term: 7 };
const samples: Exclude<Message, SnapshotRequest>[] = [
  { ...base, type: "preVote", lastIndex: 9, lastTerm: 6, transfer: false },
  { ...base, type: "vote", lastIndex: 9, lastTerm: 6, transfer: true },
  { ...base, type: "preVoteResp", reject: true },
  { ...base, type: "voteResp", reject: false },
  {
    ...base,
    type: "app",
    prevIndex: 4,
    prevTerm: 3,
    commit: 4,
    entries: [
      { index: 5, term: 7, type: "normal", data: enc.encode("x") },
      { index: 6, term: 7, type: "config", data: enc.encode('{"voters":["n1"],"learners":[]}') },
      { index: 7, term: 7, type: "noop", data: new Uint8Array() },
    ],
    session: 3,
  },
  { ...base, type: "appResp", index: 3, reject: true, hint: 2, session: 3 },
  { ...base, type: "heartbeat", commit: 5, ctx: "r1", session: 3 },
  { ...base, type: "heartbeatResp", ctx: "", session: 3 },
  { ...base, type: "timeoutNow" },
  { ...base, type: "readIndex", ctx: "c" },
  { ...base, type: "readIndexResp", ctx: "c", index: 12 },
];

describe("raft wire codec", () => {
  for (const m of samples) {
    test(`${m.type} round-trips through protobuf bytes`, () => {
      const bytes = toBinary(RaftMessageSchema, messageToProto(m));
      expect(messageFromProto(fromBinary(RaftMessageSchema, bytes))).toEqual(m);
    });
  }
});

describe("snapshot files", () => {
  const root = mkdtempSync(join(tmpdir(), "snapfiles-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const meta = { index: 40, term: 6, config: { voters: ["n1", "n2"], learners: ["n3"] } };

  /** Sends `file` of `from` to `to` chunk by chunk; returns the InstallSnapshot it completes. */
  function transfer(
    from: SnapshotDir,
    to: SnapshotDir,
    file: string,
    damage = false,
  ): SnapshotRequest | undefined {
    const d = from.seal(file);
    const snap: SnapshotRequest = {
      ...base,
      type: "snap",
      session: 2,
      snapshot: { meta, data: encodeDescriptor(d) },
    };
    let offset = 0;
    let out: SnapshotRequest | undefined;
    const chunks = [...from.chunks(d)];
    if (chunks.length === 0) chunks.push(new Uint8Array());
    for (const c of chunks) {
      const done = offset + c.length >= d.bytes;
      // Through protobuf bytes, so the CRC is known to survive the wire.
      const req = fromBinary(
        RaftServiceSendSnapshotChunkRequestSchema,
        toBinary(
          RaftServiceSendSnapshotChunkRequestSchema,
          snapshotChunk(snap, offset, d.bytes, c, done, d.crc),
        ),
      );
      if (damage && offset === 0 && req.data.length > 0) req.data[0] = (req.data[0] as number) ^ 1;
      const got = to.receive(
        { from: req.from, term: Number(req.term), index: Number(req.index) },
        Number(req.offset),
        Number(req.totalBytes),
        req.data,
        req.done,
        req.crc32,
      );
      if (got) out = snapshotMessage(req, encodeDescriptor(got));
      offset += c.length;
    }
    return out;
  }

  test("a 3.5 MB snapshot file travels as 1 MiB chunks and lands byte for byte", () => {
    const a = new SnapshotDir(join(root, "a1"));
    const b = new SnapshotDir(join(root, "b1"));
    const data = new Uint8Array(3_500_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    writeFileSync(a.path("snap-6-40.db"), data);
    expect([...a.chunks(a.seal("snap-6-40.db"))].map((c) => c.length)).toEqual([
      1 << 20,
      1 << 20,
      1 << 20,
      3_500_000 - 3 * (1 << 20),
    ]);
    const m = transfer(a, b, "snap-6-40.db");
    expect(m?.snapshot.meta).toEqual(meta);
    const d = decodeDescriptor(m!.snapshot.data);
    expect(new Uint8Array(readFileSync(b.path(d.file)))).toEqual(data);
  });

  test("a chunk that does not continue the transfer is refused, not mis-assembled", () => {
    const b = new SnapshotDir(join(root, "b2"));
    const k = { from: "n1", term: 7, index: 40 };
    expect(b.receive(k, 0, 3000, new Uint8Array(1000), false)).toBeUndefined();
    expect(() => b.receive(k, 2000, 3000, new Uint8Array(1000), true)).toThrow(/does not continue/);
    expect(() => b.receive(k, 1000, 3000, new Uint8Array(1000), false)).toThrow(
      /does not continue/,
    );
  });

  test("an empty snapshot file is one chunk", () => {
    const a = new SnapshotDir(join(root, "a3"));
    const b = new SnapshotDir(join(root, "b3"));
    writeFileSync(a.path("snap-1-1.db"), new Uint8Array());
    const m = transfer(a, b, "snap-1-1.db");
    expect(decodeDescriptor(m!.snapshot.data).bytes).toBe(0);
  });

  test("a transfer whose bytes differ from the sender's file is refused by CRC and leaves no file", () => {
    const a = new SnapshotDir(join(root, "a4"));
    const b = new SnapshotDir(join(root, "b4"));
    writeFileSync(a.path("snap-6-40.db"), new Uint8Array(5000).fill(7));
    expect(() => transfer(a, b, "snap-6-40.db", true)).toThrow(
      /snapshot n1-7-40 is corrupt: received bytes have CRC-32 [0-9a-f]{8}, the sender's file [0-9a-f]{8}/,
    );
    expect(readdirSync(b.dir)).toEqual([]);
    const m = transfer(a, b, "snap-6-40.db"); // the leader's re-send lands
    const d = decodeDescriptor(m!.snapshot.data);
    expect(d.crc).toBe(a.seal("snap-6-40.db").crc);
    expect(() => b.verify(d)).not.toThrow();
  });

  test("a snapshot file damaged on disk fails verify with an error naming it", () => {
    const a = new SnapshotDir(join(root, "a5"));
    writeFileSync(a.path("snap-6-40.db"), new Uint8Array(3000).fill(1));
    const d = a.seal("snap-6-40.db");
    writeFileSync(a.path("snap-6-40.db"), new Uint8Array(3000).fill(2));
    expect(() => a.verify(d)).toThrow(/snap-6-40\.db is corrupt: CRC-32 .* refusing to install it/);
    writeFileSync(a.path("snap-6-40.db"), new Uint8Array(2999).fill(1));
    expect(() => a.verify(d)).toThrow(/is corrupt: 2999 bytes where its descriptor says 3000/);
  });

  test("a malformed descriptor is a clear error", () => {
    expect(() => decodeDescriptor(new TextEncoder().encode('{"file":"../x"}'))).toThrow(
      /malformed snapshot descriptor/,
    );
  });
});
