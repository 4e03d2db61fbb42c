/**
 * `tock raft list-peers | remove-peer ID | transfer-leader [ID]` and `tock leave`: thin clients
 * of the agent's HTTP API (GET/DELETE /v1/raft/peers, POST /v1/raft/transfer-leader, POST
 * /v1/leave). Errors are the server's message on one line.
 */
import { parseArgs } from "node:util";
import { invalid } from "../lib/mod.ts";
import { type Connection, connectionFrom, send } from "./http_client.ts";

interface Peer {
  id: string;
  name: string;
  address: string;
  voter: boolean;
  leader: boolean;
}

/** Connection flags every client command takes (address, ACL token, TLS files). */
const connectionOptions = {
  address: { type: "string", short: "a" },
  token: { type: "string" },
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
} as const;

async function call(conn: Connection, method: string, path: string): Promise<unknown> {
  const res = await send(conn, method, path);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = res.text;
  }
  if (res.status < 200 || res.status > 299) {
    const msg = typeof body === "object" && body !== null && "error" in body
      ? String((body as { error: unknown }).error)
      : res.text;
    throw new Error(`${method} ${path}: ${res.status}: ${msg}`);
  }
  return body;
}

export async function raftCli(
  env: (name: string) => string | undefined,
  out: (line: string) => void,
  args: string[],
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...connectionOptions, json: { type: "boolean" } },
  });
  const conn = connectionFrom(values, env);
  const [sub, arg] = positionals;
  switch (sub) {
    case "list-peers": {
      const peers = await call(conn, "GET", "/v1/raft/peers") as Peer[];
      if (values.json) {
        out(JSON.stringify(peers, null, 2));
        return 0;
      }
      const rows = [["Node", "ID", "Address", "State", "Voter"]].concat(
        peers.map((p) => [
          p.name || "-",
          p.id,
          p.address || "-",
          p.leader ? "leader" : "follower",
          String(p.voter),
        ]),
      );
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) out(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
      return 0;
    }
    case "remove-peer": {
      if (!arg) throw invalid("raft remove-peer needs the server's ID (see tock raft list-peers)");
      await call(conn, "DELETE", `/v1/raft/peers/${encodeURIComponent(arg)}`);
      out(`Removed peer ${arg}`);
      return 0;
    }
    case "transfer-leader": {
      const q = arg ? `?to=${encodeURIComponent(arg)}` : "";
      const r = await call(conn, "POST", `/v1/raft/transfer-leader${q}`) as { leader: string };
      out(`Leadership transferred to ${r.leader}`);
      return 0;
    }
    default:
      throw invalid(
        `raft: unknown subcommand "${
          sub ?? ""
        }"; use list-peers, remove-peer ID or transfer-leader [ID]`,
      );
  }
}

export async function leaveCli(
  env: (name: string) => string | undefined,
  out: (line: string) => void,
  args: string[],
): Promise<number> {
  const { values } = parseArgs({ args, options: connectionOptions });
  const conn = connectionFrom(values, env);
  const members = await call(conn, "POST", "/v1/leave") as Array<{ Name: string }>;
  out(`Left the cluster; members were: ${members.map((m) => m.Name).join(", ")}`);
  return 0;
}
