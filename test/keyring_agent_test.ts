// Proves the keyring rotation is wired into the agent (issue 13, item 5): `tock keyring` against
// a real `tock agent --encrypt` process goes through GET/POST/PUT/DELETE /v1/keyring to the
// gossip keyring, each step is acknowledged by the member, keys are saved in DATA_DIR/keyring.json
// and a restart starts from that file (the rotated key), not from --encrypt; an agent without
// --encrypt answers 503 naming the flag.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { generateKey } from "../src/net/mod.ts";
import { defaultNodeIo } from "../src/node/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { type AgentProcess, devAgentArgs, startAgent, stopAgent } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-keyring-agent-"));
const dataDir = join(dir, "data");
let agent: AgentProcess | undefined;
afterAll(async () => {
  await stopAgent(agent);
  rmSync(dir, { recursive: true, force: true });
});

async function tock(...args: string[]) {
  const seen = { out: "", err: "" };
  const runtime = await loadRuntime();
  const code = await runCli(
    {
      runtime,
      out: (l) => (seen.out += l + "\n"),
      err: (l) => (seen.err += l + "\n"),
      nodeIo: () => defaultNodeIo(runtime),
      write: (chunk) => (seen.out += new TextDecoder().decode(chunk)),
    },
    args,
  );
  return { code, ...seen };
}

describe("tock keyring against a running agent", () => {
  test("install, use and remove are acknowledged, saved, and survive a restart", async () => {
    const first = generateKey();
    const second = generateKey();
    agent = await startAgent([...devAgentArgs(dataDir), "--encrypt", first], {
      timeoutMs: 30_000,
    });
    const a = ["--address", agent.url];
    const listed = await tock("keyring", "list", ...a);
    expect({ code: listed.code, err: listed.err }).toEqual({ code: 0, err: "" });
    expect(listed.out).toContain(first);
    for (const step of [["install", second], ["use", second], ["remove", first]]) {
      const r = await tock("keyring", ...step, ...a);
      expect({ step, code: r.code, err: r.err }).toEqual({ step, code: 0, err: "" });
      expect(r.out).toContain("1 of 1 members");
    }
    const refused = await tock("keyring", "remove", second, ...a);
    expect(refused.code).not.toBe(0);
    expect(refused.err + refused.out).toContain("primary");
    expect(JSON.parse(readFileSync(join(dataDir, "keyring.json"), "utf8"))).toEqual([second]);

    await stopAgent(agent);
    // Restarted with the old key on the command line: the saved keyring wins.
    agent = await startAgent([...devAgentArgs(dataDir), "--encrypt", first], {
      timeoutMs: 30_000,
    });
    const after = await tock("keyring", "list", "--address", agent.url);
    expect(after.code).toBe(0);
    expect(after.out).toContain(second);
    expect(after.out).not.toContain(first);
  }, 90_000);

  test("an agent without --encrypt answers 503 naming the flag", async () => {
    await stopAgent(agent);
    const plainDir = join(dir, "plain");
    agent = await startAgent(devAgentArgs(plainDir), { timeoutMs: 30_000 });
    const res = await fetch(`${agent.url}/v1/keyring`);
    expect(res.status).toBe(503);
    expect((await res.json()).error).toContain("--encrypt");
  }, 60_000);
});
