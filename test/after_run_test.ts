// Proves the node's after-run path end to end on a real in-process node: a job on the redis
// executor (named in any case) with the files processor stores the marker and writes the file;
// a failed run sends the cluster-wide webhook (notify-when failure), a successful one does not;
// job create refuses unknown executor and processor names listing what exists; a plugin found
// in --plugin-dir runs a job like a built-in executor.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningAgent as RunningNode } from "../src/cli/mod.ts";
import { parseNotifyConfig } from "../src/processor/mod.ts";
import { startTestNode } from "./support/node.ts";
import { repoRoot, until } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-afterrun-"));
const logDir = join(dir, "job-logs");
const hooks: string[] = [];
let hook: http.Server;
let node: RunningNode;
const key = `tock-afterrun-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hooks.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", () => r()));
  node = await startTestNode(join(dir, "data"), "after-run-node", {
    tags: {},
    ui: false,
    pluginDir: join(repoRoot, "test/fixtures/plugins"),
    notify: parseNotifyConfig({
      "webhook-endpoint": `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      "webhook-payload": "{{.JobName}} {{.Success}} {{.NodeName}}",
      "notify-when": "failure",
    }),
  });
});

afterAll(async () => {
  await node?.stop(5_000);
  hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${node.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

async function finishedRun(job: string): Promise<Record<string, unknown>> {
  return await until(`a finished execution of ${job}`, async () => {
    const res = await fetch(`${node.url}/v1/jobs/${job}/executions`);
    const list = (await res.json()) as Array<Record<string, unknown>>;
    return list.find((e) => e.finished_at !== null && e.finished_at !== "0001-01-01T00:00:00Z");
  }, 20_000);
}

const redisJob = (name: string, command: string) => ({
  name,
  schedule: "@manually",
  executor: "Redis",
  executor_config: { url: "redis://127.0.0.1:6379", command },
  processors: { Files: { log_dir: logDir } },
});

describe("after a run", () => {
  test(
    "the files processor keeps the file path as the stored output; no webhook on success",
    async () => {
      const created = await post("/v1/jobs", redisJob("set-key", `SET ${key} v`));
      expect(created.status).toBe(201);
      expect((await post("/v1/jobs/set-key/run", {})).status).toBe(200);
      const e = await finishedRun("set-key");
      expect(e.success).toBe(true);
      const path = join(logDir, `set-key_${e.id}.log`);
      expect(e.output).toBe(path);
      expect(existsSync(path)).toBe(true);
      expect(readFileSync(path, "utf8")).toBe("OK\n");
      expect(hooks).toEqual([]);
    },
    30_000,
  );

  test("a failed run sends the cluster webhook", async () => {
    expect((await post("/v1/jobs", redisJob("bad-incr", `INCR ${key}`))).status).toBe(201);
    await post("/v1/jobs/bad-incr/run", {});
    const e = await finishedRun("bad-incr");
    expect(e.success).toBe(false);
    await until("the webhook", () => (hooks.length > 0 ? true : undefined), 20_000);
    expect(hooks).toEqual(["bad-incr false after-run-node"]);
  }, 30_000);

  test("a failed attempt that is retried notifies nothing; the last attempt does", async () => {
    hooks.length = 0;
    const created = await post("/v1/jobs", {
      ...redisJob("retried", `INCR ${key}`),
      retries: 1,
      retry_delay: "1s",
    });
    expect(created.status).toBe(201);
    await post("/v1/jobs/retried/run", {});
    await until(
      "the webhook of the last attempt",
      () => (hooks.length > 0 ? true : undefined),
      20_000,
    );
    const res = await fetch(`${node.url}/v1/jobs/retried/executions`);
    const attempts = ((await res.json()) as Array<{ attempt: number; success: boolean }>)
      .map((e) => `${e.attempt} ${e.success}`).sort();
    expect(attempts).toEqual(["1 false", "2 false"]);
    expect(hooks).toEqual(["retried false after-run-node"]);
  }, 30_000);

  test("notify-when change compares with the previous run, not an earlier attempt", async () => {
    hooks.length = 0;
    const changes: string[] = [];
    const changeHook = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        changes.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => changeHook.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(changeHook.address() as AddressInfo).port}/change`;
    try {
      const counter = `${key}-counter`;
      const job = {
        ...redisJob("flipper", `INCR ${counter}`),
        retries: 1,
        retry_delay: "1s",
        processors: { webhook: { url, when: "change", payload: "{{.Success}}" } },
      };
      expect((await post("/v1/jobs", job)).status).toBe(201);
      await post("/v1/jobs/flipper/run", {});
      await finishedRun("flipper"); // a success: the first run, no change from "succeeding"
      // Make INCR fail from now on: the next run fails on both attempts.
      expect((await post("/v1/jobs", redisJob("breaker", `SET ${counter} text`))).status).toBe(201);
      await post("/v1/jobs/breaker/run", {});
      await finishedRun("breaker");
      await post("/v1/jobs/flipper/run", {});
      await until("the change notification", () => (changes.length > 0 ? true : undefined), 20_000);
      expect(changes).toEqual(["false"]);
    } finally {
      changeHook.close();
    }
  }, 30_000);

  test("a notification that cannot be delivered neither fails nor holds up the run", async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const created = await post("/v1/jobs", {
      ...redisJob("hooked", "PING"),
      processors: { webhook: { url: `http://127.0.0.1:${port}/gone`, when: "always" } },
    });
    expect(created.status).toBe(201);
    await post("/v1/jobs/hooked/run", {});
    // Recorded as a success while the webhook is still being retried (its backoff is seconds).
    const e = await finishedRun("hooked");
    expect(e.success).toBe(true);
    expect(e.output).toBe("PONG\n");
  }, 30_000);

  test("a plugin from the plugin dir runs a job", async () => {
    const created = await post("/v1/jobs", {
      name: "py-job",
      schedule: "@manually",
      executor: "PyEcho",
      executor_config: { message: "tick", lines: "2" },
    });
    expect(created.status).toBe(201);
    await post("/v1/jobs/py-job/run", {});
    const e = await finishedRun("py-job");
    expect(e.success).toBe(true);
    expect(e.output).toBe("tick 1 from py-job\ntick 2 from py-job\n");
  }, 30_000);

  test("create refuses unknown executor and processor names with what exists", async () => {
    const noExec = await post("/v1/jobs", { ...redisJob("x1", "PING"), executor: "Kafak" });
    expect(noExec.status).toBe(400);
    expect(noExec.text).toContain('unknown executor \\"kafak\\"; available: ');
    expect(noExec.text).toContain("grpc, http, kafka, nats, noop, pyecho, rabbitmq, redis, shell");
    const noProc = await post("/v1/jobs", { ...redisJob("x2", "PING"), processors: { sylog: {} } });
    expect(noProc.status).toBe(400);
    expect(noProc.text).toContain(
      'unknown processor \\"sylog\\"; available: files, fluent, log, mail, syslog, webhook',
    );
    const badCfg = await post("/v1/jobs", {
      ...redisJob("x3", "PING"),
      processors: { SYSLOG: { address: "nowhere" } },
    });
    expect(badCfg.status).toBe(400);
    expect(badCfg.text).toContain('processor syslog: address \\"nowhere\\"');
  });
});
