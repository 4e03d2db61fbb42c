/** Builders shared by this folder's tests: gossip members made the way real nodes make them. */
import type { NodeState } from "../gossip/mod.ts";
import { type ClusterMember, clusterMember, encodeNodeTags, type NodeTags } from "./tags.ts";

export interface ServerSpec {
  state?: NodeState;
  expect?: number;
  hasRaft?: boolean;
  region?: string;
  rpcAddr?: string;
  id?: string;
  server?: boolean;
}

/** A server member named `name` with node id `id-<name>` and rpc_addr 10.0.0.x:6868. */
export function serverMember(name: string, spec: ServerSpec = {}): ClusterMember {
  const tags: NodeTags = {
    server: spec.server ?? true,
    region: spec.region ?? "global",
    datacenter: "dc1",
    version: "0.1.0",
    expect: spec.expect ?? 0,
    rpcAddr: spec.rpcAddr ?? `10.0.0.${name.replace(/\D/g, "") || "9"}:6868`,
    nodeId: spec.id ?? `id-${name}`,
    hasRaft: spec.hasRaft ?? false,
    user: {},
  };
  return clusterMember({
    name,
    addr: `10.0.0.${name.replace(/\D/g, "") || "9"}:8946`,
    tags: encodeNodeTags(tags),
    state: spec.state ?? "alive",
    incarnation: 1,
  });
}
