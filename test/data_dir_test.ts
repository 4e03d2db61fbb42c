// Proves one agent per data dir: a second agent on the same --data-dir refuses to start, names
// the dir and the PID holding it, and leaves the first agent's runs alone; the lock dies with
// its holder, so a SIGKILLed agent never blocks a restart.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNode } from "./support/node.ts";
import { type AgentProcess, devAgentArgs, startAgent, until } from "./support/proc.ts";

const dirs: string[] = [];
const started: AgentProcess[] = [];
afterAll(() => {
  for (const a of started) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const agentArgs = (dataDir: string, name: string) => [
  ...devAgentArgs(dataDir),
  "--node-name",
  name,
];

describe("data dir lock", () => {
  test("a second agent on the same data dir refuses to start and names the holder", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tock-lock-"));
    dirs.push(dataDir);
    const a = await startAgent(agentArgs(dataDir, "first"), { timeoutMs: 40_000 });
    started.push(a);
    const post = await fetch(`${a.url}/v1/jobs?runoncreate=true`, {
      method: "POST",
      body: JSON.stringify({
        name: "long",
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "sleep 60" },
      }),
    });
    expect(post.status).toBe(201);
    await until("the run to be running", async () => {
      const l = await (await fetch(`${a.url}/v1/jobs/long/executions`)).json();
      return l.length === 1 && l[0].status === "running" ? l : undefined;
    }, 40_000);

    const second = await startAgent(agentArgs(dataDir, "second"), { timeoutMs: 40_000 }).then(
      (b) => {
        started.push(b);
        return `started at ${b.url}: ${b.output()}`;
      },
      (e: Error) => e.message,
    );
    expect(second).toContain("agent exited (1) before listening");
    expect(second).toContain(`data dir ${dataDir} is in use`);
    expect(second).toContain(`PID ${a.proc.pid}`);
    // The first agent's run was not killed as an orphan.
    const l = await (await fetch(`${a.url}/v1/jobs/long/executions`)).json();
    expect(l.map((e: { status: string }) => e.status)).toEqual(["running"]);

    // The lock dies with its holder: after a SIGKILL the next agent starts.
    a.proc.kill("SIGKILL");
    await a.exited;
    const c = await startAgent(agentArgs(dataDir, "first"), { timeoutMs: 40_000 });
    started.push(c);
    c.proc.kill("SIGTERM");
    await c.exited;
  }, 120_000);

  test("two nodes in one process cannot share a data dir; stop releases it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tock-lock-"));
    dirs.push(dataDir);
    const n1 = await startTestNode(dataDir, "n1");
    let refused = "";
    await startTestNode(dataDir, "n2").then(
      (n) => n.stop(0),
      (e: Error) => void (refused = e.message),
    );
    expect(refused).toContain(`data dir ${dataDir} is in use`);
    await n1.stop(0);
    const n3 = await startTestNode(dataDir, "n3");
    await n3.stop(0);
  }, 60_000);
});
