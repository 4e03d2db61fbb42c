// Proves portability: the same server runs under `deno run` (Deno.serve + node:sqlite) and
// creates, lists and runs a job through REST.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devAgentArgs, repoRoot, slowWait, startAgent, until } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-deno-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("tock agent under deno creates, lists and runs a job", async () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  const a = await startAgent(devAgentArgs(join(dir, "data")), {
    command: [deno, "run", "-A", "--unstable-no-legacy-abort", join(repoRoot, "src/main.ts")],
    timeoutMs: 60_000,
  });
  try {
    const created = await fetch(`${a.url}/v1/jobs`, {
      method: "POST",
      body: JSON.stringify({
        name: "from-deno",
        schedule: "@every 1m",
        executor: "shell",
        executor_config: { command: "echo deno" },
      }),
    });
    expect(created.status).toBe(201);
    const list = await (await fetch(`${a.url}/v1/jobs`)).json();
    expect(list.map((j: { name: string }) => j.name)).toEqual(["from-deno"]);
    expect((await fetch(`${a.url}/v1/jobs/from-deno/run`, { method: "POST" })).status).toBe(200);
    const e = await until("deno execution", async () => {
      const l = await (await fetch(`${a.url}/v1/jobs/from-deno/executions`)).json();
      return l[0]?.status === "success" ? l[0] : undefined;
    }, slowWait.untilMs);
    expect(e.output).toBe("deno\n");
  } finally {
    a.proc.kill("SIGTERM");
    expect(await a.exited).toBe(0);
  }
}, 90_000);
