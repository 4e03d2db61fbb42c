/**
 * Raft over Connect (HTTP/1.1): a client side that batches messages per peer with one RPC in
 * flight per peer (messages that pile up meanwhile go in the next batch, bounded), chunked
 * snapshot transfer with per-RPC timeouts; and a server side that mounts RaftService and
 * KvService on a fetch handler.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { createConnectTransport } from "@connectrpc/connect-web";
import { errorMessage, isTockError, limits } from "../lib/mod.ts";
import type { Message, NodeId, SnapshotRequest } from "../raft/mod.ts";
import {
  KvService,
  KvServiceGetResponseSchema,
  KvServicePutResponseSchema,
  KvServiceStatusResponseSchema,
  RaftService,
  RaftServiceSendRequestSchema,
} from "../gen/tock/v1/raft_pb.ts";
import { messageFromProto, messageToProto, SnapshotAssembler, snapshotToChunks } from "./codec.ts";
import type { RaftNode, Transport } from "./node.ts";

type RaftClient = ReturnType<typeof createClient<typeof RaftService>>;

interface Peer {
  client: RaftClient;
  queue: Message[];
  busy: boolean;
}

/** Counters for reports and benches. */
export interface TransportStats {
  rpcs: number;
  failures: number;
  dropped: number;
  snapshotsSent: number;
}

/** Sends Raft messages to peers at `baseUrls[id]` (e.g. "http://127.0.0.1:6868"). */
export class HttpTransport implements Transport {
  readonly #peers = new Map<NodeId, Peer>();
  readonly stats: TransportStats = { rpcs: 0, failures: 0, dropped: 0, snapshotsSent: 0 };

  constructor(baseUrls: Readonly<Record<NodeId, string>>) {
    for (const [id, baseUrl] of Object.entries(baseUrls)) {
      const t = createConnectTransport({ baseUrl, useBinaryFormat: true });
      this.#peers.set(id, { client: createClient(RaftService, t), queue: [], busy: false });
    }
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
    if (!p.busy) void this.#flush(p);
  }

  async #flush(p: Peer): Promise<void> {
    p.busy = true;
    try {
      while (p.queue.length > 0) {
        const batch = p.queue.splice(0, p.queue.length);
        const plain = batch.filter((m) => m.type !== "snap") as Exclude<Message, SnapshotRequest>[];
        const snaps = batch.filter((m): m is SnapshotRequest => m.type === "snap");
        try {
          for (const group of bySize(plain)) {
            this.stats.rpcs++;
            await p.client.send(
              create(RaftServiceSendRequestSchema, { messages: group.map(messageToProto) }),
              { timeoutMs: limits.raftRpcTimeoutMs },
            );
          }
          for (const s of snaps) {
            this.stats.snapshotsSent++;
            for (const chunk of snapshotToChunks(s)) {
              this.stats.rpcs++;
              await p.client.sendSnapshotChunk(chunk, { timeoutMs: limits.raftRpcTimeoutMs * 5 });
            }
          }
        } catch {
          // The peer is down or slow: these messages are lost, as on a lossy network. Raft
          // re-sends what matters (heartbeats, probes, snapshots).
          this.stats.failures++;
        }
      }
    } finally {
      p.busy = false;
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

/** Builds the fetch handler serving RaftService and KvService for `node`. */
export function raftFetchHandler(
  node: () => RaftNode | undefined,
): (req: Request) => Promise<Response> {
  const assembler = new SnapshotAssembler();
  const router = createConnectRouter({ readMaxBytes: limits.raftRpcBytesMax });
  const must = (): RaftNode => {
    const n = node();
    if (n === undefined) throw new ConnectError("node is starting", Code.Unavailable);
    return n;
  };
  router.service(RaftService, {
    send(req) {
      must().receive(req.messages.map(messageFromProto));
      return {};
    },
    sendSnapshotChunk(req) {
      const m = assembler.add(req);
      if (m !== undefined) must().receive([m]);
      return {};
    },
  });
  router.service(KvService, {
    async put(req) {
      try {
        const index = await must().put(req.key, req.value);
        return create(KvServicePutResponseSchema, { index: BigInt(index) });
      } catch (e) {
        throw toConnect(e);
      }
    },
    async get(req) {
      try {
        const v = await must().get(req.key);
        return create(KvServiceGetResponseSchema, { found: v !== undefined, value: v ?? "" });
      } catch (e) {
        throw toConnect(e);
      }
    },
    status() {
      const s = must().status();
      return create(KvServiceStatusResponseSchema, {
        id: s.id,
        role: s.role,
        term: BigInt(s.term),
        leader: s.leader,
        commit: BigInt(s.commit),
        applied: BigInt(s.applied),
        lastIndex: BigInt(s.lastIndex),
      });
    },
  });
  const handlers = new Map<string, (req: Request) => Promise<Response>>();
  for (const h of router.handlers) handlers.set(h.requestPath, createFetchHandler(h));
  return (req: Request) => {
    const h = handlers.get(new URL(req.url).pathname);
    if (h === undefined) return Promise.resolve(new Response("not found", { status: 404 }));
    return h(req);
  };
}

function toConnect(e: unknown): ConnectError {
  if (isTockError(e)) {
    const code = e.kind === "not_leader"
      ? Code.FailedPrecondition
      : e.kind === "timeout"
      ? Code.DeadlineExceeded
      : Code.Unavailable;
    const err = new ConnectError(e.message, code);
    if (e.leaderHint !== undefined) err.metadata.set("x-raft-leader", e.leaderHint);
    return err;
  }
  return new ConnectError(errorMessage(e), Code.Internal);
}
