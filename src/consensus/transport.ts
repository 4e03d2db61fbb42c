/**
 * Raft over Connect (HTTP/1.1): a client side that batches messages per peer with one RPC in
 * flight per peer (messages that pile up meanwhile go in the next batch, bounded) and streams
 * snapshot files in bounded chunks; and a server side that mounts RaftService on a router.
 * Peers are addressed by Raft id; their URLs change at run time (a server restarted on another
 * address), so the address book is mutable.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { errorMessage, limits } from "../lib/mod.ts";
import type { Message, NodeId, SnapshotRequest } from "../raft/mod.ts";
import { RaftService, RaftServiceSendRequestSchema } from "../gen/tock/v1/raft_pb.ts";
import { messageFromProto, messageToProto, snapshotChunk, snapshotMessage } from "./codec.ts";
import type { RaftShell, Transport } from "./shell.ts";
import { decodeDescriptor, encodeDescriptor, type SnapshotDir } from "./snapshot_files.ts";

type RaftClient = ReturnType<typeof createClient<typeof RaftService>>;

interface Peer {
  url: string;
  client: RaftClient;
  queue: Message[];
  /** Message RPCs in flight (pipelined: Raft tolerates reordering, not waiting). */
  inFlight: number;
  /** Snapshot transfers go one at a time, their chunks in order. */
  snapshots: SnapshotRequest[];
  sendingSnapshot: boolean;
}

/** Message RPCs in flight per peer: a heartbeat in flight must not delay the next append. */
const rpcsInFlightMax = 4;

/** Counters for reports and benches. */
export interface TransportStats {
  rpcs: number;
  failures: number;
  dropped: number;
  snapshotsSent: number;
  snapshotBytesSent: number;
}

/** Sends Raft messages to peers at their base URLs (e.g. "http://127.0.0.1:6868"). */
export class HttpTransport implements Transport {
  readonly #peers = new Map<NodeId, Peer>();
  readonly #snapshots: SnapshotDir;
  readonly stats: TransportStats = {
    rpcs: 0,
    failures: 0,
    dropped: 0,
    snapshotsSent: 0,
    snapshotBytesSent: 0,
  };

  constructor(snapshots: SnapshotDir, baseUrls: Readonly<Record<NodeId, string>> = {}) {
    this.#snapshots = snapshots;
    for (const [id, url] of Object.entries(baseUrls)) this.setPeer(id, url);
  }

  /** Adds a peer or changes its address (messages queued for the old one are kept). */
  setPeer(id: NodeId, baseUrl: string): void {
    const old = this.#peers.get(id);
    if (old?.url === baseUrl) return;
    const client = createClient(
      RaftService,
      createConnectTransport({ baseUrl, useBinaryFormat: true }),
    );
    if (old === undefined) {
      this.#peers.set(id, {
        url: baseUrl,
        client,
        queue: [],
        inFlight: 0,
        snapshots: [],
        sendingSnapshot: false,
      });
    } else {
      old.url = baseUrl;
      old.client = client;
    }
  }

  removePeer(id: NodeId): void {
    this.#peers.delete(id);
  }

  peerUrl(id: NodeId): string | undefined {
    return this.#peers.get(id)?.url;
  }

  peers(): ReadonlyMap<NodeId, string> {
    return new Map([...this.#peers].map(([id, p]) => [id, p.url]));
  }

  send(to: NodeId, messages: readonly Message[]): void {
    const p = this.#peers.get(to);
    if (p === undefined) return;
    p.queue.push(...messages);
    const over = p.queue.length - limits.raftPeerQueueMax;
    if (over > 0) {
      p.queue.splice(0, over);
      this.stats.dropped += over;
    }
    this.#pump(p);
  }

  /** Starts RPCs for queued messages while fewer than rpcsInFlightMax are in flight. */
  #pump(p: Peer): void {
    if (p.queue.some((m) => m.type === "snap")) {
      p.snapshots.push(...p.queue.filter((m): m is SnapshotRequest => m.type === "snap"));
      p.queue = p.queue.filter((m) => m.type !== "snap");
      if (!p.sendingSnapshot) void this.#snapshotLoop(p);
    }
    while (p.queue.length > 0 && p.inFlight < rpcsInFlightMax) {
      const batch = p.queue.splice(0, p.queue.length) as Exclude<Message, SnapshotRequest>[];
      p.inFlight++;
      void this.#sendBatch(p, batch).finally(() => {
        p.inFlight--;
        this.#pump(p);
      });
    }
  }

  async #sendBatch(p: Peer, batch: Exclude<Message, SnapshotRequest>[]): Promise<void> {
    try {
      for (const group of bySize(batch)) {
        this.stats.rpcs++;
        await p.client.send(
          create(RaftServiceSendRequestSchema, { messages: group.map(messageToProto) }),
          { timeoutMs: limits.raftRpcTimeoutMs },
        );
      }
    } catch {
      // The peer is down or slow: these messages are lost, as on a lossy network. Raft
      // re-sends what matters (heartbeats, probes, snapshots).
      this.stats.failures++;
    }
  }

  async #snapshotLoop(p: Peer): Promise<void> {
    p.sendingSnapshot = true;
    try {
      while (p.snapshots.length > 0) {
        // Only the newest matters: older ones are superseded.
        const s = p.snapshots[p.snapshots.length - 1] as SnapshotRequest;
        p.snapshots = [];
        try {
          await this.#sendSnapshot(p.client, s);
        } catch {
          this.stats.failures++;
        }
      }
    } finally {
      p.sendingSnapshot = false;
    }
  }

  /** Streams the snapshot's file chunk by chunk: one chunk in memory, one RPC in flight. */
  async #sendSnapshot(client: RaftClient, s: SnapshotRequest): Promise<void> {
    this.stats.snapshotsSent++;
    const d = decodeDescriptor(s.snapshot.data);
    let offset = 0;
    let sentAny = false;
    for (const chunk of this.#snapshots.chunks(d)) {
      const done = offset + chunk.length >= d.bytes;
      this.stats.rpcs++;
      await client.sendSnapshotChunk(snapshotChunk(s, offset, d.bytes, chunk, done, d.crc), {
        timeoutMs: limits.raftRpcTimeoutMs * 5,
      });
      offset += chunk.length;
      this.stats.snapshotBytesSent += chunk.length;
      sentAny = true;
    }
    if (!sentAny) {
      await client.sendSnapshotChunk(snapshotChunk(s, 0, 0, new Uint8Array(), true, d.crc), {
        timeoutMs: limits.raftRpcTimeoutMs,
      });
    }
  }
}

/** Splits messages into RPC-sized groups (each AppendEntries alone is ≤ raftAppendBytesMax). */
function bySize<M extends Message>(msgs: readonly M[]): M[][] {
  const groups: M[][] = [];
  let cur: M[] = [];
  let bytes = 0;
  for (const m of msgs) {
    const size = 128 +
      (m.type === "app" ? m.entries.reduce((s, e) => s + e.data.length + 32, 0) : 0);
    if (cur.length > 0 && bytes + size > limits.raftRpcBytesMax / 2) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += size;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/**
 * Mounts RaftService for `shell` (undefined while the node starts). Snapshot chunks are written
 * to `snapshots` as they arrive; the finished file is handed to the core as an InstallSnapshot.
 */
export function mountRaftService(
  router: ConnectRouter,
  shell: () => RaftShell | undefined,
  snapshots: SnapshotDir,
): void {
  const must = (): RaftShell => {
    const n = shell();
    if (n === undefined) throw new ConnectError("node is starting", Code.Unavailable);
    return n;
  };
  router.service(RaftService, {
    send(req) {
      must().receive(req.messages.map(messageFromProto));
      return {};
    },
    sendSnapshotChunk(req) {
      const s = must();
      let d;
      try {
        d = snapshots.receive(
          { from: req.from, term: Number(req.term), index: Number(req.index) },
          Number(req.offset),
          Number(req.totalBytes),
          req.data,
          req.done,
          req.crc32,
        );
      } catch (e) {
        // Out of order, oversized or corrupt: refuse this transfer; the leader re-sends from 0.
        throw new ConnectError(errorMessage(e), Code.FailedPrecondition);
      }
      if (d !== undefined) s.receive([snapshotMessage(req, encodeDescriptor(d))]);
      return {};
    },
  });
}
