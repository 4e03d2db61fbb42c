/**
 * The inter-node RPC port (--rpc-port): RaftService for the consensus shell and PeerService
 * for forwarded writes and status, as Connect over HTTP/1.1 on one fetch handler; plus the
 * client side of forwarding.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { createConnectTransport } from "@connectrpc/connect-web";
import { mountRaftService, type RaftShell, type SnapshotDir } from "../consensus/mod.ts";
import {
  PeerService,
  PeerServiceOpResponseSchema,
  PeerServiceProposeResponseSchema,
  PeerServiceStatusResponseSchema,
} from "../gen/tock/v1/peer_pb.ts";
import { type ErrorKind, errorMessage, isTockError, limits, TockError } from "../lib/mod.ts";
import type { NodeId } from "../raft/mod.ts";
import type { Door, Forward } from "./door.ts";

/** Operator Raft changes, carried out here (on the leader). */
export interface LocalOps {
  removePeer(id: string): Promise<void>;
  transferLeader(to: string): Promise<string>;
}

function opError(e: unknown, leader: string) {
  return create(PeerServiceOpResponseSchema, {
    errorKind: isTockError(e) ? e.kind : "internal",
    errorMessage: errorMessage(e),
    leader,
  });
}

export function rpcFetchHandler(
  shell: () => RaftShell | undefined,
  door: () => Door | undefined,
  snapshots: SnapshotDir,
  ops: () => LocalOps | undefined,
): (req: Request) => Promise<Response> {
  const router = createConnectRouter({ readMaxBytes: limits.raftRpcBytesMax });
  mountRaftService(router, shell, snapshots);
  router.service(PeerService, {
    async propose(req) {
      const d = door();
      const s = shell();
      if (d === undefined || s === undefined) {
        throw new ConnectError("node is starting", Code.Unavailable);
      }
      if (s.role !== "leader") {
        // Forwarding goes one hop only: a non-leader answers with its view of the leader.
        return create(PeerServiceProposeResponseSchema, {
          errorKind: "not_leader",
          errorMessage: `${s.id} is not the leader`,
          leader: s.leader,
        });
      }
      try {
        await d.proposeEnvelope(req.envelope);
        return create(PeerServiceProposeResponseSchema, {
          index: BigInt(s.status().applied),
        });
      } catch (e) {
        return create(PeerServiceProposeResponseSchema, {
          errorKind: isTockError(e) ? e.kind : "internal",
          errorMessage: errorMessage(e),
          leader: s.leader,
        });
      }
    },
    async removePeer(req) {
      const o = ops();
      if (o === undefined) throw new ConnectError("node is starting", Code.Unavailable);
      try {
        await o.removePeer(req.id);
        return create(PeerServiceOpResponseSchema, {});
      } catch (e) {
        return opError(e, shell()?.leader ?? "");
      }
    },
    async transferLeader(req) {
      const o = ops();
      if (o === undefined) throw new ConnectError("node is starting", Code.Unavailable);
      try {
        return create(PeerServiceOpResponseSchema, { leader: await o.transferLeader(req.to) });
      } catch (e) {
        return opError(e, shell()?.leader ?? "");
      }
    },
    status() {
      const s = shell();
      if (s === undefined) throw new ConnectError("node is starting", Code.Unavailable);
      const st = s.status();
      return create(PeerServiceStatusResponseSchema, {
        id: st.id,
        role: st.role,
        term: BigInt(st.term),
        leader: st.leader,
        commit: BigInt(st.commit),
        applied: BigInt(st.applied),
        lastIndex: BigInt(st.lastIndex),
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

type ClusterClient = ReturnType<typeof createClient<typeof PeerService>>;

/** A PeerService client for the leader's RPC address, one cached per address. */
function peerClients(
  urlOf: (id: NodeId) => string | undefined,
): (leader: NodeId) => { url: string; client: ClusterClient } {
  const clients = new Map<string, ClusterClient>();
  return (leader) => {
    const url = urlOf(leader);
    if (url === undefined) {
      throw new TockError("unavailable", `no RPC address known for leader ${leader}`);
    }
    let client = clients.get(url);
    if (client === undefined) {
      client = createClient(
        PeerService,
        createConnectTransport({ baseUrl: url, useBinaryFormat: true }),
      );
      clients.set(url, client);
    }
    return { url, client };
  };
}

/** Forwards envelopes to the leader's RPC address. */
export function forwarder(urlOf: (id: NodeId) => string | undefined): Forward {
  const peer = peerClients(urlOf);
  return async (leader, envelope, signal) => {
    const { url, client: c } = peer(leader);
    let res;
    try {
      res = await c.propose({ envelope }, { timeoutMs: limits.forwardTimeoutMs, signal });
    } catch (e) {
      throw new TockError(
        "unavailable",
        `forward to ${leader} at ${url} failed: ${errorMessage(e)}`,
      );
    }
    if (res.errorKind !== "") {
      throw new TockError(res.errorKind as ErrorKind, res.errorMessage, res.leader);
    }
  };
}

/** Operator Raft changes sent to the leader's RPC address (from a server that does not lead). */
export function leaderOps(urlOf: (id: NodeId) => string | undefined) {
  const peer = peerClients(urlOf);
  const client = (leader: NodeId): ClusterClient => peer(leader).client;
  const check = (r: { errorKind: string; errorMessage: string; leader: string }) => {
    if (r.errorKind !== "") throw new TockError(r.errorKind as ErrorKind, r.errorMessage, r.leader);
  };
  return {
    async removePeer(leader: NodeId, id: string): Promise<void> {
      check(await client(leader).removePeer({ id }, { timeoutMs: limits.proposeTimeoutMs }));
    },
    async transferLeader(leader: NodeId, to: string): Promise<string> {
      const r = await client(leader).transferLeader({ to }, { timeoutMs: limits.proposeTimeoutMs });
      check(r);
      return r.leader;
    },
  };
}
