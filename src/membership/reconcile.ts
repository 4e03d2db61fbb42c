/**
 * The leader's reconcile decision: gossip membership → Raft configuration changes (Consul's
 * autopilot, with Dkron's tags). Rules:
 * - an alive server of the leader's region that Raft does not know joins as a learner, and is
 *   promoted once caught up (match within learnerCatchUpLagEntriesMax of the commit index);
 * - a server that left gossip is removed; one whose name or RPC address is now held by another
 *   node id is removed too (its data dir was wiped or replaced: that identity is gone);
 * - a failed (or vanished) server is removed only after the grace period, only while fewer than
 *   half of the voters are down, and only if the alive voters still form a quorum afterwards;
 * - the leader never removes itself;
 * - a known node id advertising a new RPC address gets its Raft address updated.
 * Identity is the node id (the Raft server id), never the address.
 *
 * The result is ordered by priority. Apply actions[0] only, wait for it, then reconcile again
 * with fresh inputs: Raft takes one single-server change at a time, and each change moves the
 * quorum arithmetic the later ones depend on.
 */
import { limits } from "../lib/mod.ts";
import type { ClusterMember } from "./tags.ts";

/** One server of the Raft configuration as the leader sees it. */
export interface RaftServer {
  /** Raft server id = the node id. */
  id: string;
  /** The RPC address the leader dials. */
  address: string;
  voter: boolean;
  /** Highest log index known replicated to it (the leader's progress); ignored for voters. */
  match: number;
  /** Node name last seen with this id, if known (finds a replaced node by name). */
  name?: string;
}

export interface ReconcileInput {
  /** The leader's own node id. */
  selfId: string;
  /** The leader's region: only servers of this region are members of its Raft group. */
  region: string;
  members: readonly ClusterMember[];
  servers: readonly RaftServer[];
  /** The leader's commit index (for learners' catch-up). */
  commitIndex: number;
  /**
   * Per Raft server id: milliseconds since gossip last showed it alive (failed, or reaped from
   * gossip). An id missing here counts as just gone (0 ms).
   */
  downForMs: Readonly<Record<string, number>>;
  failedServerGraceMs: number;
}

export type MembershipAction =
  | { type: "updateAddress"; id: string; address: string; reason: string }
  | { type: "remove"; id: string; reason: string }
  | { type: "addLearner"; id: string; name: string; address: string; reason: string }
  | { type: "promote"; id: string; reason: string };

export interface ReconcileResult {
  actions: MembershipAction[];
  /** Why something was not done (grace not over, quorum unsafe, member without tags...). */
  notes: string[];
}

export const quorumOf = (voters: number): number => Math.floor(voters / 2) + 1;

const isUp = (m: ClusterMember | undefined) => m?.status === "alive" || m?.status === "leaving";

export function reconcile(input: ReconcileInput): ReconcileResult {
  const actions: MembershipAction[] = [];
  const notes: string[] = [];

  // Servers of this region, by node id; the first holder of an id wins (ids are unique UUIDs,
  // a duplicate is a copied data dir and is reported).
  const byId = new Map<string, ClusterMember>();
  for (const m of input.members) {
    if (!m.tags.server || m.tags.region !== input.region) continue;
    if (m.tags.nodeId === "") {
      notes.push(`server ${m.name} advertises no node id: ignored`);
      continue;
    }
    const other = byId.get(m.tags.nodeId);
    if (other !== undefined) {
      notes.push(
        `servers ${other.name} and ${m.name} advertise the same node id ${m.tags.nodeId} (a copied data dir?): ${m.name} ignored`,
      );
      continue;
    }
    byId.set(m.tags.nodeId, m);
  }
  const configured = new Map(input.servers.map((s) => [s.id, s]));

  // 1. Addresses: a known id at a new RPC address (a restart on another IP or port).
  for (const s of input.servers) {
    const m = byId.get(s.id);
    if (isUp(m) && m!.tags.rpcAddr !== "" && m!.tags.rpcAddr !== s.address) {
      actions.push({
        type: "updateAddress",
        id: s.id,
        address: m!.tags.rpcAddr,
        reason: `${m!.name} now advertises ${m!.tags.rpcAddr} (was ${s.address})`,
      });
    }
  }

  // 2. Removals, simulated in order so each one's quorum check sees the earlier ones done.
  let voters = input.servers.filter((s) => s.voter).length;
  const aliveVoters = input.servers.filter((s) => s.voter && isUp(byId.get(s.id))).length;
  let downVoters = voters - aliveVoters;
  const removeVoterIsSafe = (s: RaftServer, why: string, failed: boolean): boolean => {
    if (!s.voter) return true;
    if (failed && downVoters * 2 >= voters) {
      notes.push(
        `not removing ${why}: ${downVoters} of ${voters} voters are down, too many to trust that they failed`,
      );
      return false;
    }
    if (aliveVoters < quorumOf(voters - 1)) {
      notes.push(
        `not removing ${why}: ${aliveVoters} alive of ${
          voters - 1
        } remaining voters is below a quorum`,
      );
      return false;
    }
    return true;
  };
  for (const s of input.servers) {
    const label = s.name ?? s.id;
    if (s.id === input.selfId) continue;
    const m = byId.get(s.id);
    if (isUp(m)) continue;
    let reason: string;
    let failed = false;
    const holder = [...byId.values()].find((o) =>
      isUp(o) && o.tags.nodeId !== s.id &&
      ((s.name !== undefined && o.name === s.name) || o.tags.rpcAddr === s.address)
    );
    if (m?.status === "left") {
      reason = `${m.name} left the cluster`;
    } else if (holder !== undefined) {
      reason = `${label} was replaced: ${holder.name} (node id ${holder.tags.nodeId}) now holds ${
        holder.name === s.name ? "its name" : `its address ${s.address}`
      }`;
    } else {
      const downMs = Math.round(input.downForMs[s.id] ?? 0);
      if (downMs < input.failedServerGraceMs) {
        // No elapsed time here: notes are logged when they change, so they must be stable.
        notes.push(
          `${label} is ${
            m === undefined ? "not in gossip" : "failed"
          }; removed once down for ${input.failedServerGraceMs} ms`,
        );
        continue;
      }
      failed = true;
      reason = `${label} has been ${
        m === undefined ? "gone from gossip" : "failed"
      } for ${downMs} ms (grace ${input.failedServerGraceMs} ms)`;
    }
    if (!removeVoterIsSafe(s, label, failed)) continue;
    actions.push({ type: "remove", id: s.id, reason });
    if (s.voter) {
      voters--;
      downVoters--;
    }
  }

  // 3. Promotions: alive learners that have caught up.
  for (const s of input.servers) {
    if (s.voter || !isUp(byId.get(s.id))) continue;
    const lag = input.commitIndex - s.match;
    if (s.match > 0 && lag <= limits.learnerCatchUpLagEntriesMax) {
      actions.push({
        type: "promote",
        id: s.id,
        reason: `${byId.get(s.id)!.name} caught up (match ${s.match}, commit ${input.commitIndex})`,
      });
    } else {
      notes.push(
        `${byId.get(s.id)!.name} is catching up (match ${s.match}, commit ${input.commitIndex})`,
      );
    }
  }

  // 4. Additions: alive servers Raft does not know yet, as learners.
  const sorted = [...byId.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const m of sorted) {
    if (configured.has(m.tags.nodeId) || m.status !== "alive") continue;
    if (m.tags.rpcAddr === "") {
      notes.push(`server ${m.name} advertises no rpc_addr: cannot add it`);
      continue;
    }
    actions.push({
      type: "addLearner",
      id: m.tags.nodeId,
      name: m.name,
      address: m.tags.rpcAddr,
      reason: `${m.name} is an alive server unknown to Raft`,
    });
  }
  return { actions, notes };
}

/**
 * Address changes alone (for every server, not just the leader: each one dials its peers).
 * Same rule as reconcile's first step.
 */
export function addressUpdates(
  members: readonly ClusterMember[],
  servers: readonly Pick<RaftServer, "id" | "address">[],
): Array<{ id: string; address: string }> {
  const out: Array<{ id: string; address: string }> = [];
  for (const s of servers) {
    const m = members.find((x) => x.tags.server && x.tags.nodeId === s.id && isUp(x));
    if (m !== undefined && m.tags.rpcAddr !== "" && m.tags.rpcAddr !== s.address) {
      out.push({ id: s.id, address: m.tags.rpcAddr });
    }
  }
  return out;
}
