/**
 * The inter-node RPC port (--rpc-port): RaftService for the consensus shell and ClusterService
 * for forwarded writes and status, as Connect over HTTP/1.1 on one fetch handler; plus the
 * client side of forwarding.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { createConnectTransport } from "@connectrpc/connect-web";
import { mountRaftService, type RaftShell, type SnapshotDir } from "../consensus/mod.ts";
import {
  ClusterService,
  ClusterServiceProposeResponseSchema,
  ClusterServiceStatusResponseSchema,
} from "../gen/tock/v1/cluster_pb.ts";
import { type ErrorKind, errorMessage, isTockError, limits, TockError } from "../lib/mod.ts";
import type { NodeId } from "../raft/mod.ts";
import type { Door, Forward } from "./door.ts";

export function rpcFetchHandler(
  shell: () => RaftShell | undefined,
  door: () => Door | undefined,
  snapshots: SnapshotDir,
): (req: Request) => Promise<Response> {
  const router = createConnectRouter({ readMaxBytes: limits.raftRpcBytesMax });
  mountRaftService(router, shell, snapshots);
  router.service(ClusterService, {
    async propose(req) {
      const d = door();
      const s = shell();
      if (d === undefined || s === undefined) {
        throw new ConnectError("node is starting", Code.Unavailable);
      }
      if (s.role !== "leader") {
        // Forwarding goes one hop only: a non-leader answers with its view of the leader.
        return create(ClusterServiceProposeResponseSchema, {
          errorKind: "not_leader",
          errorMessage: `${s.id} is not the leader`,
          leader: s.leader,
        });
      }
      try {
        await d.proposeEnvelope(req.envelope);
        return create(ClusterServiceProposeResponseSchema, {
          index: BigInt(s.status().applied),
        });
      } catch (e) {
        return create(ClusterServiceProposeResponseSchema, {
          errorKind: isTockError(e) ? e.kind : "internal",
          errorMessage: errorMessage(e),
          leader: s.leader,
        });
      }
    },
    status() {
      const s = shell();
      if (s === undefined) throw new ConnectError("node is starting", Code.Unavailable);
      const st = s.status();
      return create(ClusterServiceStatusResponseSchema, {
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

type ClusterClient = ReturnType<typeof createClient<typeof ClusterService>>;

/** Forwards envelopes to the leader's RPC address (clients cached per address). */
export function forwarder(urlOf: (id: NodeId) => string | undefined): Forward {
  const clients = new Map<string, ClusterClient>();
  return async (leader, envelope) => {
    const url = urlOf(leader);
    if (url === undefined) {
      throw new TockError("unavailable", `no RPC address known for leader ${leader}`);
    }
    let c = clients.get(url);
    if (c === undefined) {
      c = createClient(
        ClusterService,
        createConnectTransport({ baseUrl: url, useBinaryFormat: true }),
      );
      clients.set(url, c);
    }
    let res;
    try {
      res = await c.propose({ envelope }, { timeoutMs: limits.proposeTimeoutMs });
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
