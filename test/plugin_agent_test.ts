// Proves the agent's issue-12 flags through the real CLI in its own process: `tock agent --dev
// --plugin-dir test/fixtures/plugins --webhook-endpoint ... --webhook-payload ...` runs a job
// on the Python example plugin (as the README says) and posts the templated webhook after it.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devAgentArgs, repoRoot, startAgent, until } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-plugin-agent-"));
const hooks: Array<{ body: string; header: string | undefined }> = [];
const hook = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    hooks.push({ body, header: req.headers["x-tock-job"] as string | undefined });
    res.writeHead(200).end();
  });
});
afterAll(() => {
  hook.close();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "an agent started with --plugin-dir and webhook flags runs a plugin job and notifies",
  async () => {
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", () => r()));
    const port = (hook.address() as AddressInfo).port;
    const a = await startAgent([
      ...devAgentArgs(join(dir, "data")),
      "--plugin-dir",
      join(repoRoot, "test/fixtures/plugins"),
      "--webhook-endpoint",
      `http://127.0.0.1:${port}/done`,
      "--webhook-payload",
      "{{.JobName}} {{.Success}} {{json .Output}}",
      "--webhook-headers",
      "X-Tock-Job: {{.JobName}}",
    ], { timeoutMs: 60_000 });
    try {
      const created = await fetch(`${a.url}/v1/jobs`, {
        method: "POST",
        body: JSON.stringify({
          name: "py",
          schedule: "@manually",
          executor: "pyecho",
          executor_config: { message: "hi", lines: "2" },
        }),
      });
      expect(created.status).toBe(201);
      await fetch(`${a.url}/v1/jobs/py/run`, { method: "POST" });
      await until("the webhook after the run", () => (hooks.length > 0 ? true : undefined), 30_000);
      expect(hooks).toEqual([{ body: 'py true "hi 1 from py\\nhi 2 from py\\n"', header: "py" }]);
    } finally {
      a.proc.kill("SIGTERM");
      await a.exited;
    }
  },
  90_000,
);
