// Keeps the README's executor, processor and notification examples working: every JSON job in
// the Executors, Processors and Notifications sections is created on a real node (so each is
// valid as written), the Redis, NATS and RabbitMQ ones are run against the local servers and
// must succeed, and the config-file example parses into the notification settings it shows.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigFile, resolveConfig } from "../src/cli/config.ts";
import type { RunningAgent as RunningNode } from "../src/cli/mod.ts";
import { parseNotifyConfig } from "../src/processor/mod.ts";
import { startTestNode } from "./support/node.ts";
import { repoRoot, until } from "./support/proc.ts";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const sections = readme.slice(
  readme.indexOf("## Executors"),
  readme.indexOf("## Executor plugins"),
);
const jobs = [...sections.matchAll(/```json\n([\s\S]*?)```/g)].map((m) =>
  JSON.parse(m[1] as string) as { name: string; executor: string }
);
const dir = mkdtempSync(join(tmpdir(), "tock-readme-exec-"));
let node: RunningNode;

beforeAll(async () => {
  node = await startTestNode(join(dir, "data"), "readme", {
    tags: {},
    ui: false,
    // The per-job mail example needs a mail server configured; nothing is sent in this test.
    notify: parseNotifyConfig({ "mail-host": "127.0.0.1", "mail-port": "2525" }),
  });
});

afterAll(async () => {
  await node?.stop(5_000);
  rmSync(dir, { recursive: true, force: true });
});

describe("README executor examples", () => {
  test("the sections hold the examples", () => {
    expect(jobs.map((j) => j.executor).sort()).toEqual([
      "grpc",
      "kafka",
      "nats",
      "rabbitmq",
      "redis",
      "shell",
      "shell",
    ]);
  });

  test("every example job is accepted as written", async () => {
    for (const job of jobs) {
      const res = await fetch(`${node.url}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...job, disabled: true }),
      });
      expect(`${job.name}: ${res.status} ${res.status === 201 ? "" : await res.text()}`).toBe(
        `${job.name}: 201 `,
      );
    }
  }, 30_000);

  test(
    "the Redis, NATS and RabbitMQ examples run successfully against the local servers",
    async () => {
      for (const job of jobs.filter((j) => ["redis", "nats", "rabbitmq"].includes(j.executor))) {
        const run = await fetch(`${node.url}/v1/jobs/${job.name}/run`, { method: "POST" });
        expect(run.status).toBe(200);
        const e = await until(`a finished run of ${job.name}`, async () => {
          const list =
            (await (await fetch(`${node.url}/v1/jobs/${job.name}/executions`)).json()) as Array<
              Record<string, unknown>
            >;
          return list.find((x) => x.status !== "running");
        }, 20_000);
        expect(`${job.name}: ${e.success} ${e.success ? "" : e.output}`).toBe(`${job.name}: true `);
      }
    },
    60_000,
  );

  test("the config-file example gives the notification settings it describes", () => {
    const yaml = /```yaml\n(# tock\.yml[\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const path = join(dir, "tock.yml");
    writeFileSync(path, yaml);
    const c = resolveConfig(readConfigFile(path).raw);
    expect(c.notify.when).toBe("failure");
    expect(c.notify.webhook?.headers).toEqual([["Content-Type", "application/json"]]);
    expect(c.notify.mail).toMatchObject({ host: "smtp.example.com", port: 587 });
  });
});
