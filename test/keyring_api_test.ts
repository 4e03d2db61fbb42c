// Proves the keyring REST handler and CLI command end to end over HTTP against 3 real gossip
// shells: `tock keyring list|install|use|remove` print how many members acknowledged and
// which refused and why; the handler answers 200 when all acknowledged, 409 with the
// per-node reasons when members refused (removing the primary), 400 for a body without a key,
// 405 for another method, and 503 on a node without keyring operations. (The handler is not
// registered in the app yet; this test serves it on its own.)
import { afterEach, describe, expect, test } from "bun:test";
import { handleKeyringRequest, type KeyringPort } from "../src/api/keyring_routes.ts";
import { keyringCommand } from "../src/cli/keyring.ts";
import { generateKey } from "../src/net/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import {
  drive,
  FakeClock,
  runUntil,
  startNode,
  stopAll,
  type TestNode,
} from "./support/gossip_keyring.ts";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  stopAll();
  for (const s of stops.splice(0)) await s();
});

async function serve(ops: KeyringPort | undefined): Promise<string> {
  const rt = await loadRuntime();
  const srv = rt.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => handleKeyringRequest(req, ops),
  });
  stops.push(() => srv.stop(true));
  return `http://127.0.0.1:${srv.port}`;
}

describe("keyring REST and CLI", () => {
  test("the CLI rotates a key through the REST handler and prints acks and refusals", async () => {
    const clock = new FakeClock();
    const k1 = generateKey(32);
    const k2 = generateKey(32);
    const a = await startNode("a", clock, [k1]);
    const nodes: TestNode[] = [a];
    for (const n of ["b", "c"]) nodes.push(await startNode(n, clock, [k1], a.s.core.addr));
    await runUntil(
      clock,
      () => nodes.every((n) => n.s.core.members().filter((m) => m.state === "alive").length === 3),
      () => "3 members",
    );
    const address = await serve(a.ops);
    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      let err: unknown;
      await drive(
        clock,
        nodes,
        keyringCommand({ address, out: (l) => lines.push(l) }, args).catch((e) => (err = e)),
        `tock keyring ${args[0]}`,
      );
      return { lines, err: err === undefined ? undefined : String(err) };
    };

    expect((await cli("install", k2)).lines).toEqual(["Installed the key on 3 of 3 members"]);
    const refused = await cli("remove", k1);
    expect(refused.lines[0]).toBe("Removed the key from 0 of 3 members");
    expect(refused.lines.slice(1)).toEqual(
      ["a", "b", "c"].map((n) => `  ${n}: cannot remove the primary gossip key; use another first`),
    );
    expect(refused.err).toMatch(/3 of 3 members refused remove/);
    expect((await cli("use", k2)).lines).toEqual(["Made the key primary on 3 of 3 members"]);
    expect((await cli("remove", k1)).lines).toEqual(["Removed the key from 3 of 3 members"]);
    expect((await cli("list")).lines).toEqual([
      "Listed keys on 3 of 3 members",
      `${k2}  held by 3/3  primary on 3`,
    ]);
    expect((await cli("use")).err).toMatch(/usage: tock keyring/);

    // The handler's statuses, straight over HTTP.
    const call = (method: string, body?: string) =>
      drive(
        clock,
        nodes,
        fetch(`${address}/v1/keyring`, { method, ...(body === undefined ? {} : { body }) }).then(
          async (r) => ({ status: r.status, body: await r.json() as Record<string, unknown> }),
        ),
        `${method} /v1/keyring`,
      );
    const listed = await call("GET");
    expect(listed.status).toBe(200);
    expect(listed.body["acks"]).toBe(3);
    const conflict = await call("DELETE", JSON.stringify({ Key: k2 }));
    expect(conflict.status).toBe(409);
    expect(String(conflict.body["error"])).toContain("cannot remove the primary gossip key");
    expect((await call("POST", "{}")).status).toBe(400);
    expect((await call("POST", "not json")).status).toBe(400);
    expect((await call("PATCH")).status).toBe(405);
  }, 60_000);

  test("a node without keyring operations answers 503 naming the flag", async () => {
    const address = await serve(undefined);
    const r = await fetch(`${address}/v1/keyring`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: string }).error).toContain("--encrypt");
  });
});
