/**
 * The bootstrap-expect decision (Dkron's maybeBootstrap, Consul's bootstrap-expect): a server
 * bootstraps a new Raft group only once `expect` alive servers of its region advertise the same
 * expect value and none of them (itself included) holds a Raft configuration. Every chosen
 * server computes the same voter set from the same members, so they bootstrap identical
 * configurations.
 */
import type { ClusterMember } from "./tags.ts";

/** One server of a bootstrap configuration: its Raft id is its node id. */
export interface Voter {
  id: string;
  name: string;
  /** Advertised RPC address "host:port". */
  address: string;
}

export interface BootstrapInput {
  self: { name: string; id: string; expect: number; hasRaftState: boolean };
  region: string;
  /** Gossip members (self may be among them; it counts as alive either way). */
  members: readonly ClusterMember[];
  /** Self's advertised RPC address, used if self is not (yet) among the members. */
  selfRpcAddr: string;
}

export type BootstrapDecision =
  /** No --bootstrap-expect: this server waits to be added by a leader. */
  | { kind: "disabled" }
  /** This server already holds a Raft configuration: nothing to bootstrap. */
  | { kind: "done" }
  /** Fewer than expect matching servers are alive; `seen` lists those counted. */
  | { kind: "wait"; seen: string[]; reason: string }
  /** Servers disagree on expect: a misconfiguration the operator must fix. */
  | { kind: "mismatch"; reason: string }
  /** A peer already holds a Raft configuration: a cluster exists; wait to be added. */
  | { kind: "exists"; reason: string }
  /** More than expect servers are alive and this one is not among the first expect (by name). */
  | { kind: "standby"; reason: string }
  /** Bootstrap Raft with exactly these voters (self included), sorted by name then id. */
  | { kind: "bootstrap"; voters: Voter[] };

const byNameThenId = (a: Voter, b: Voter) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

export function decideBootstrap(input: BootstrapInput): BootstrapDecision {
  const { self } = input;
  const expect = self.expect;
  if (expect <= 0) return { kind: "disabled" };
  if (self.hasRaftState) return { kind: "done" };
  const peers = input.members.filter((m) =>
    m.name !== self.name && m.status === "alive" && m.tags.server &&
    m.tags.region === input.region
  );
  const withRaft = peers.filter((m) => m.tags.hasRaft).map((m) => m.name);
  if (withRaft.length > 0) {
    return {
      kind: "exists",
      reason: `server(s) ${
        withRaft.sort().join(", ")
      } already hold a Raft configuration: not bootstrapping, waiting for the leader to add this server`,
    };
  }
  const conflicting = peers.filter((m) => m.tags.expect !== 0 && m.tags.expect !== expect);
  if (conflicting.length > 0) {
    const list = conflicting.map((m) => `${m.name} has ${m.tags.expect}`).sort().join(", ");
    return {
      kind: "mismatch",
      reason:
        `servers disagree on bootstrap-expect: ${self.name} has ${expect}, ${list}; start every initial server with the same --bootstrap-expect`,
    };
  }
  const selfMember = input.members.find((m) => m.name === self.name);
  const candidates: Voter[] = [{
    id: self.id,
    name: self.name,
    address: selfMember?.tags.rpcAddr || input.selfRpcAddr,
  }];
  const missingRpc: string[] = [];
  for (const m of peers) {
    if (m.tags.expect !== expect) continue;
    if (m.tags.nodeId === "" || m.tags.rpcAddr === "") {
      missingRpc.push(m.name);
      continue;
    }
    candidates.push({ id: m.tags.nodeId, name: m.name, address: m.tags.rpcAddr });
  }
  candidates.sort(byNameThenId);
  const seen = candidates.map((v) => v.name);
  if (candidates.length < expect) {
    const extra = missingRpc.length === 0
      ? ""
      : `; ignoring ${missingRpc.sort().join(", ")} (no id or rpc_addr tag)`;
    return {
      kind: "wait",
      seen,
      reason:
        `waiting for ${expect} servers with bootstrap-expect ${expect}, seen ${candidates.length} (${
          seen.join(", ")
        })${extra}`,
    };
  }
  const chosen = candidates.slice(0, expect);
  if (!chosen.some((v) => v.id === self.id)) {
    return {
      kind: "standby",
      reason:
        `${candidates.length} servers have bootstrap-expect ${expect}; the first ${expect} by name (${
          chosen.map((v) => v.name).join(", ")
        }) bootstrap, this one waits to be added`,
    };
  }
  return { kind: "bootstrap", voters: chosen };
}
