/**
 * `tock raft list-peers | remove-peer ID | transfer-leader [ID]` and `tock leave`: thin clients
 * of the agent's HTTP API (GET/DELETE /v1/raft/peers, POST /v1/raft/transfer-leader, POST
 * /v1/leave). Errors are the server's message on one line.
 */
import { parseArgs } from "node:util";
import { invalid } from "../lib/mod.ts";

interface Peer {
  id: string;
  name: string;
  address: string;
  voter: boolean;
  leader: boolean;
}

async function call(address: string, method: string, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(address + path, { method });
  } catch (e) {
    throw new Error(`cannot reach ${address}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const msg = typeof body === "object" && body !== null && "error" in body
      ? String((body as { error: unknown }).error)
      : text;
    throw new Error(`${method} ${path}: ${res.status}: ${msg}`);
  }
  return body;
}

function addressOf(env: (name: string) => string | undefined, given: string | undefined): string {
  return (given ?? env("TOCK_ADDR") ?? "http://127.0.0.1:8080").replace(/\/$/, "");
}

export async function raftCli(
  env: (name: string) => string | undefined,
  out: (line: string) => void,
  args: string[],
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { address: { type: "string", short: "a" }, json: { type: "boolean" } },
  });
  const address = addressOf(env, values.address);
  const [sub, arg] = positionals;
  switch (sub) {
    case "list-peers": {
      const peers = await call(address, "GET", "/v1/raft/peers") as Peer[];
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
      await call(address, "DELETE", `/v1/raft/peers/${encodeURIComponent(arg)}`);
      out(`Removed peer ${arg}`);
      return 0;
    }
    case "transfer-leader": {
      const q = arg ? `?to=${encodeURIComponent(arg)}` : "";
      const r = await call(address, "POST", `/v1/raft/transfer-leader${q}`) as { leader: string };
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
  const { values } = parseArgs({ args, options: { address: { type: "string", short: "a" } } });
  const address = addressOf(env, values.address);
  const members = await call(address, "POST", "/v1/leave") as Array<{ Name: string }>;
  out(`Left the cluster; members were: ${members.map((m) => m.Name).join(", ")}`);
  return 0;
}
