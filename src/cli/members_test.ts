// Proves `tock members` renders GET /v1/members (Dkron's member JSON) as a table or raw JSON,
// and that an unreachable server or a malformed answer is one clear error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { membersCli, membersCommand } from "./members.ts";

const members = [
  {
    Name: "s1",
    Addr: "10.0.0.1",
    Port: 8946,
    Tags: {
      role: "dkron",
      server: "true",
      region: "global",
      dc: "dc1",
      version: "0.1.0",
      id: "uuid-1",
      rpc_addr: "10.0.0.1:6868",
      port: "6868",
      rack: "r1",
      app: "web",
    },
    Status: 1,
    ProtocolMin: 1,
    ProtocolMax: 1,
    ProtocolCur: 1,
    DelegateMin: 1,
    DelegateMax: 1,
    DelegateCur: 1,
    id: "uuid-1",
    statusText: "alive",
  },
  { Name: "a2", Addr: "fd00::2", Port: 8946, Tags: { server: "false" }, Status: 4 },
];

let body = JSON.stringify(members);
let server: Server;
let address = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(req.url === "/v1/members" ? 200 : 404, { "content-type": "application/json" });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("tock members", () => {
  test("prints one row per member: address, status, role, region, dc, rpc, user tags", async () => {
    body = JSON.stringify(members);
    const lines: string[] = [];
    await membersCommand({ address, out: (l) => lines.push(l) });
    expect(lines[0]).toMatch(
      /^NAME\s+ADDRESS\s+STATUS\s+ROLE\s+REGION\s+DC\s+RPC\s+VERSION\s+TAGS$/,
    );
    expect(lines[1]?.split(/\s+/)).toEqual([
      "s1",
      "10.0.0.1:8946",
      "alive",
      "server",
      "global",
      "dc1",
      "10.0.0.1:6868",
      "0.1.0",
      "app=web,rack=r1",
    ]);
    expect(lines[2]?.split(/\s+/)).toEqual(["a2", "[fd00::2]:8946", "failed", "agent"]);
  });

  test("--json prints the server's JSON as is", async () => {
    body = JSON.stringify(members);
    const lines: string[] = [];
    await membersCommand({ address, out: (l) => lines.push(l) }, { json: true });
    expect(JSON.parse(lines.join("\n"))).toEqual(members);
  });

  test("membersCli takes --address (or TOCK_ADDR) and --json", async () => {
    body = JSON.stringify(members);
    const lines: string[] = [];
    const env = (n: string) => (n === "TOCK_ADDR" ? `${address}/` : undefined);
    expect(await membersCli(env, (l) => lines.push(l), ["--json"])).toBe(0);
    expect(JSON.parse(lines.join("\n"))).toEqual(members);
    lines.length = 0;
    await membersCli(() => undefined, (l) => lines.push(l), ["--address", address]);
    expect(lines).toHaveLength(3);
  });

  test("a malformed answer or an unreachable server is one clear error", async () => {
    body = JSON.stringify({ members: [] });
    await expect(membersCommand({ address, out: () => {} })).rejects.toThrow(
      "GET /v1/members: expected an array of members",
    );
    body = "<html>";
    await expect(membersCommand({ address, out: () => {} })).rejects.toThrow("is not JSON");
    await expect(membersCommand({ address: "http://127.0.0.1:1", out: () => {} })).rejects
      .toThrow("cannot reach Tock at http://127.0.0.1:1");
  });
});
