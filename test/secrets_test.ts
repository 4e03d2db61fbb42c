// Proves job secrets on a real node: a `${env:TOCK_SECRET_*}` reference in executor_config is
// what the API returns, the running command sees the value, and neither the API (REST, Connect),
// nor state.db, nor output.db ever holds the value: output shows [redacted].
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { JobService } from "../src/gen/tock/v1/job_pb.ts";
import { startTestNode, type TestNode } from "./support/node.ts";
import { until } from "./support/proc.ts";

const value = `pw-${crypto.randomUUID()}`;
let node: TestNode;
let dir: string;
beforeAll(async () => {
  process.env.TOCK_SECRET_E2E = value;
  dir = mkdtempSync(join(tmpdir(), "tock-secrets-e2e-"));
  node = await startTestNode(dir);
});
afterAll(async () => {
  delete process.env.TOCK_SECRET_E2E;
  await node.stop(2_000);
  rmSync(dir, { recursive: true, force: true });
}, 20_000);

describe("job secrets on a node", () => {
  test(
    "the reference is stored and returned; the value is used and redacted everywhere",
    async () => {
      const body = {
        name: "uses-secret",
        schedule: "@daily",
        executor: "shell",
        executor_config: {
          command: "/bin/sh -c 'echo len=${#PW}; echo value=$PW'",
          env: "PW=${env:TOCK_SECRET_E2E}",
        },
      };
      const created = await fetch(`${node.url}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(created.status).toBe(201);
      expect((await created.json()).executor_config.env).toBe("PW=${env:TOCK_SECRET_E2E}");
      const run = await fetch(`${node.url}/v1/jobs/uses-secret/run`, { method: "POST" });
      const id = run.headers.get("x-execution-id") as string;
      const done = await until("the run to finish", async () => {
        const r = await fetch(`${node.url}/v1/jobs/uses-secret/executions/${id}`);
        const e = await r.json();
        return e.status !== "running" && e.finished_at !== "0001-01-01T00:00:00Z" ? e : undefined;
      }, 20_000);
      expect(done.success).toBe(true);
      expect(done.output).toContain(`len=${value.length}`);
      expect(done.output).toContain("value=[redacted]");
      expect(done.output).not.toContain(value);
      const viaConnect = await createClient(
        JobService,
        createConnectTransport({ baseUrl: node.url }),
      ).getExecution({ jobName: "uses-secret", executionId: id });
      expect(viaConnect.execution?.output).toContain("value=[redacted]");
      const jobs = await (await fetch(`${node.url}/v1/jobs`)).text();
      expect(jobs).not.toContain(value);
      for (const db of ["state.db", "state.db-wal", "output.db", "output.db-wal"]) {
        if (!existsSync(join(dir, db))) continue;
        const bytes = readFileSync(join(dir, db)).toString("latin1");
        expect({ db, leaked: bytes.includes(value) }).toEqual({ db, leaked: false });
      }
    },
    30_000,
  );

  test("a reference to a non-secret variable is refused at create time", async () => {
    const res = await fetch(`${node.url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "peeks",
        schedule: "@daily",
        executor: "shell",
        executor_config: { command: "echo ${env:HOME}" },
      }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain("TOCK_SECRET_*");
  });
});
