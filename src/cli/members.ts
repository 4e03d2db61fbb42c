/**
 * `tock members`: the gossip members as this server sees them (GET /v1/members, Dkron's JSON),
 * as a table like `serf members`, or the raw JSON with --json.
 */
import { parseArgs } from "node:util";
import { invalid } from "../lib/mod.ts";
import { reservedTagNames } from "../membership/mod.ts";

export interface MembersIo {
  /** Base URL of a Tock server, e.g. http://127.0.0.1:8080. */
  address: string;
  out(line: string): void;
}

interface MemberJson {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  statusText?: string;
  Status: number;
}

/** Serf's status numbers, for servers that send no statusText. */
const statusNames = ["none", "alive", "leaving", "left", "failed"];
/** The agent's own tags have their own columns, so the TAGS column holds only user tags. */
const columnTags = new Set(reservedTagNames);

function isMember(v: unknown): v is MemberJson {
  if (v === null || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return typeof o.Name === "string" && typeof o.Addr === "string" &&
    typeof o.Port === "number" && typeof o.Status === "number" &&
    o.Tags !== null && typeof o.Tags === "object";
}

export async function membersCommand(io: MembersIo, opts: { json?: boolean } = {}): Promise<void> {
  const url = `${io.address}/v1/members`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw invalid(
      `cannot reach Tock at ${io.address}: ${(e as Error).message} (set --address or TOCK_ADDR)`,
    );
  }
  const text = await res.text();
  if (res.status !== 200) throw invalid(`GET /v1/members: ${res.status} ${text}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(`GET /v1/members: the answer is not JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(data) || !data.every(isMember)) {
    throw invalid("GET /v1/members: expected an array of members (Name, Addr, Port, Status, Tags)");
  }
  if (opts.json) {
    io.out(JSON.stringify(data, null, 2));
    return;
  }
  const rows = data.map((m) => {
    const tags = m.Tags;
    const user = Object.entries(tags).filter(([k]) => !columnTags.has(k)).sort(([a], [b]) =>
      a < b ? -1 : 1
    ).map(([k, v]) => `${k}=${v}`).join(",");
    const host = m.Addr.includes(":") ? `[${m.Addr}]` : m.Addr;
    return [
      m.Name,
      `${host}:${m.Port}`,
      m.statusText ?? statusNames[m.Status] ?? String(m.Status),
      tags.server === "true" ? "server" : "agent",
      tags.region ?? "",
      tags.dc ?? "",
      tags.rpc_addr ?? "",
      tags.version ?? "",
      user,
    ];
  });
  const header = ["NAME", "ADDRESS", "STATUS", "ROLE", "REGION", "DC", "RPC", "VERSION", "TAGS"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("").trimEnd();
  io.out(line(header));
  for (const r of rows) io.out(line(r));
}

/**
 * `tock members [--address URL] [--json]`, whole: parses its own flags, so the dispatcher in
 * cli.ts needs one line: `case "members": return await membersCli(io.runtime.env, io.out, rest);`
 */
export async function membersCli(
  env: (name: string) => string | undefined,
  out: (line: string) => void,
  args: string[],
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { address: { type: "string", short: "a" }, json: { type: "boolean" } },
  });
  const address = (values.address ?? env("TOCK_ADDR") ?? "http://127.0.0.1:8080").replace(
    /\/$/,
    "",
  );
  await membersCommand({ address, out }, { json: values.json ?? false });
  return 0;
}
