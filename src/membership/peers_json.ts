/**
 * peers.json, the manual recovery file for a group that lost its quorum (hashicorp/raft's
 * format, as Dkron and Consul document it): a JSON array of
 * `{"id": "<server id>", "address": "<host>:<rpc port>", "non_voter": false}`.
 * Parsing is strict: the file rewrites the cluster's membership, so a typo must stop the start
 * with a message, not be half-applied.
 */
import { invalid, limits } from "../lib/mod.ts";

export interface PeerEntry {
  id: string;
  address: string;
  nonVoter: boolean;
}

const keys = new Set(["id", "address", "non_voter"]);

export function parsePeersJson(text: string, source = "peers.json"): PeerEntry[] {
  if (text.length > limits.peersJsonBytesMax) {
    throw invalid(`${source}: ${text.length} bytes, at most ${limits.peersJsonBytesMax}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalid(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc)) {
    throw invalid(
      `${source} must be a JSON array of {"id": ..., "address": "host:port"} objects`,
    );
  }
  if (doc.length === 0) throw invalid(`${source} lists no servers`);
  if (doc.length > limits.peersJsonServersMax) {
    throw invalid(`${source} lists ${doc.length} servers, at most ${limits.peersJsonServersMax}`);
  }
  const out: PeerEntry[] = [];
  const ids = new Set<string>();
  const addresses = new Set<string>();
  doc.forEach((item: unknown, i) => {
    const at = `${source} entry ${i + 1}`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw invalid(`${at} must be an object with "id" and "address"`);
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!keys.has(k)) {
        throw invalid(`${at}: unknown field "${k}" (fields: id, address, non_voter)`);
      }
    }
    const { id, address } = o;
    if (typeof id !== "string" || id.trim() === "" || id.length > limits.gossipNodeNameBytesMax) {
      throw invalid(
        `${at}: "id" must be a non-empty string of at most ${limits.gossipNodeNameBytesMax} characters`,
      );
    }
    if (typeof address !== "string") throw invalid(`${at}: "address" must be a "host:port" string`);
    const m = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(address);
    const port = m ? Number(m[1]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw invalid(`${at}: address "${address}" is not host:port (the server's RPC address)`);
    }
    const nv = o.non_voter ?? false;
    if (typeof nv !== "boolean") throw invalid(`${at}: "non_voter" must be true or false`);
    if (ids.has(id)) throw invalid(`${at}: id "${id}" is listed twice`);
    if (addresses.has(address)) throw invalid(`${at}: address "${address}" is listed twice`);
    ids.add(id);
    addresses.add(address);
    out.push({ id, address, nonVoter: nv });
  });
  if (!out.some((p) => !p.nonVoter)) throw invalid(`${source} lists no voter`);
  return out;
}

/**
 * Dkron's peers.json names servers by node name; Tock's Raft ids are node ids. An entry whose id
 * is this node's name is read as this node's id (the usual recovery: the survivors list
 * themselves). Other ids are used as written (take them from `tock raft list-peers`).
 */
export function resolvePeerIds(
  entries: readonly PeerEntry[],
  self: { name: string; id: string },
): PeerEntry[] {
  return entries.map((p) => (p.id === self.name ? { ...p, id: self.id } : p));
}
