/**
 * Gossip tags ↔ what a node says about itself, and Dkron's /v1/members JSON. Tags come from
 * remote nodes, so decoding never throws: a malformed value reads as absent.
 */
import type { Member, NodeState } from "../gossip/mod.ts";

/**
 * Tags the agent sets itself: Dkron's reserved ones plus Tock's `id` (the persisted node id, the
 * Raft server id) and `raft` ("1" once the node holds a Raft configuration; bootstrap-expect
 * waits for none to have one).
 */
export const reservedTagNames: readonly string[] = [
  "server",
  "region",
  "dc",
  "role",
  "version",
  "expect",
  "rpc_addr",
  "port",
  "bootstrap",
  "id",
  "raft",
];

/** Dkron sets role=dkron on every node; Tock keeps it so existing job tag filters still match. */
export const roleTag = "dkron";

/** What a node advertises about itself. */
export interface NodeTags {
  server: boolean;
  region: string;
  datacenter: string;
  version: string;
  /** bootstrap-expect of a server (0: not bootstrapping by expect). */
  expect: number;
  /** Advertised inter-node RPC address "host:port" ("" for none). */
  rpcAddr: string;
  /** The node id persisted in its data dir ("" if unknown, e.g. a Dkron node). */
  nodeId: string;
  /** The node holds a Raft configuration (bootstrapped or added by a leader). */
  hasRaft: boolean;
  /** User tags (never a reserved name). */
  user: Record<string, string>;
}

/** NodeTags as read from a member, plus Dkron's role and port tags. */
export interface MemberTags extends NodeTags {
  role: string;
  /** RPC port from the `port` tag (0 if absent or malformed). */
  port: number;
}

function rpcPortOf(rpcAddr: string): string {
  const i = rpcAddr.lastIndexOf(":");
  return i < 0 ? "" : rpcAddr.slice(i + 1);
}

/** The gossip tags for a node: reserved tags from its settings, then its user tags. */
export function encodeNodeTags(t: NodeTags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.user)) {
    if (!reservedTagNames.includes(k)) out[k] = v;
  }
  out.role = roleTag;
  out.server = String(t.server);
  out.region = t.region;
  out.dc = t.datacenter;
  out.version = t.version;
  if (t.nodeId !== "") out.id = t.nodeId;
  if (t.rpcAddr !== "") {
    out.rpc_addr = t.rpcAddr;
    out.port = rpcPortOf(t.rpcAddr);
  }
  if (t.server && t.expect > 0) out.expect = String(t.expect);
  if (t.server && t.hasRaft) out.raft = "1";
  return out;
}

function nonNegInt(s: string | undefined): number {
  if (s === undefined || !/^\d{1,9}$/.test(s)) return 0;
  return Number(s);
}

/** Reads a member's tags; absent or malformed reserved tags read as their empty value. */
export function decodeNodeTags(tags: Readonly<Record<string, string>>): MemberTags {
  const user: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (!reservedTagNames.includes(k)) user[k] = v;
  return {
    server: tags.server === "true",
    region: tags.region ?? "",
    datacenter: tags.dc ?? "",
    version: tags.version ?? "",
    expect: nonNegInt(tags.expect),
    rpcAddr: tags.rpc_addr ?? "",
    nodeId: tags.id ?? "",
    hasRaft: tags.raft === "1",
    user,
    role: tags.role ?? "",
    port: Math.min(nonNegInt(tags.port), 65535),
  };
}

/** A member's status as Serf names it (memberlist's suspect is still alive to Serf). */
export type MemberStatus = "alive" | "leaving" | "left" | "failed";

export function memberStatus(state: NodeState): MemberStatus {
  switch (state) {
    case "alive":
    case "suspect":
      return "alive";
    case "dead":
      return "failed";
    case "left":
      return "left";
  }
}

/** Serf's MemberStatus numbers, as Dkron's /v1/members `Status` field carries them. */
export const memberStatusCode: Readonly<Record<MemberStatus | "none", number>> = {
  none: 0,
  alive: 1,
  leaving: 2,
  left: 3,
  failed: 4,
};

/** A gossip member as the cluster code sees it. */
export interface ClusterMember {
  name: string;
  /** Gossip address "host:port". */
  addr: string;
  status: MemberStatus;
  tags: MemberTags;
  /** The raw gossip tags (for /v1/members). */
  rawTags: Readonly<Record<string, string>>;
}

export function clusterMember(m: Member): ClusterMember {
  return {
    name: m.name,
    addr: m.addr,
    status: memberStatus(m.state),
    tags: decodeNodeTags(m.tags),
    rawTags: m.tags,
  };
}

/** Tock's gossip protocol version (codec.ts): one version so far, so min = max = current. */
export const gossipProtocolVersion = 1;

/** One element of Dkron's GET /v1/members array (Serf's Member with Go field names). */
export interface DkronMember {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: number;
  ProtocolMin: number;
  ProtocolMax: number;
  ProtocolCur: number;
  DelegateMin: number;
  DelegateMax: number;
  DelegateCur: number;
  /** Dkron sends a fresh random UUID per request; Tock sends the stable node id (or the name). */
  id: string;
  statusText: MemberStatus;
}

/** Splits "host:port" or "[v6]:port"; a malformed address gives its whole text and port 0. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m) return { host: addr, port: 0 };
  return { host: m[1] ?? m[2] ?? "", port: Number(m[3]) };
}

export function dkronMember(m: ClusterMember): DkronMember {
  const { host, port } = splitHostPort(m.addr);
  return {
    Name: m.name,
    Addr: host,
    Port: port,
    Tags: { ...m.rawTags },
    Status: memberStatusCode[m.status],
    ProtocolMin: gossipProtocolVersion,
    ProtocolMax: gossipProtocolVersion,
    ProtocolCur: gossipProtocolVersion,
    DelegateMin: gossipProtocolVersion,
    DelegateMax: gossipProtocolVersion,
    DelegateCur: gossipProtocolVersion,
    id: m.tags.nodeId === "" ? m.name : m.tags.nodeId,
    statusText: m.status,
  };
}
