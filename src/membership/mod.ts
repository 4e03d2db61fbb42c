/**
 * membership: the pure decisions that turn gossip membership into a Raft group (no IO, no
 * clock: callers pass durations in). The IO glue is src/node/membership.ts.
 *
 * - Tags: `encodeNodeTags(t)` builds a node's gossip tags (Dkron's reserved server, region, dc,
 *   role, version, expect, rpc_addr, port, plus Tock's id and raft) around its user tags;
 *   `clusterMember(gossipMember)` reads them back; `dkronMember(m)` is one element of Dkron's
 *   GET /v1/members JSON.
 * - Bootstrap: `decideBootstrap({ self, region, members, selfRpcAddr })` → bootstrap(voters) only
 *   when `expect` alive servers agree on expect and none holds a Raft configuration.
 * - Reconcile (leader): `reconcile({ selfId, region, members, servers, commitIndex, downForMs,
 *   failedServerGraceMs })` → ordered single-server actions; apply the first, then re-run.
 *   `addressUpdates(members, servers)` is its address step alone, for every server.
 * - Recovery: `parsePeersJson(text)` reads peers.json strictly; `resolvePeerIds` maps this
 *   node's name to its id.
 * A Raft server id is the node id persisted in the data dir, not the name and not the address.
 */
export {
  type BootstrapDecision,
  type BootstrapInput,
  decideBootstrap,
  type Voter,
} from "./bootstrap.ts";
export {
  addressUpdates,
  type MembershipAction,
  quorumOf,
  type RaftServer,
  reconcile,
  type ReconcileInput,
  type ReconcileResult,
} from "./reconcile.ts";
export {
  type ClusterMember,
  clusterMember,
  decodeNodeTags,
  type DkronMember,
  dkronMember,
  encodeNodeTags,
  gossipProtocolVersion,
  type MemberStatus,
  memberStatus,
  memberStatusCode,
  type MemberTags,
  type NodeTags,
  reservedTagNames,
  roleTag,
  splitHostPort,
} from "./tags.ts";
export { parsePeersJson, type PeerEntry, resolvePeerIds } from "./peers_json.ts";
