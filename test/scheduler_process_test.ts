// Proves scheduling with real processes and shell jobs: kill -9 of the server while jobs run,
// then restart — finished runs are kept, running ones become lost, missed slots follow the
// policy and no slot fires twice; kill of a running execution stops its whole process group;
// retries, chains and ephemeral deletion with real shell commands; the output cap.
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentProcess, devAgentArgs, startAgent, until } from "./support/proc.ts";

const dirs: string[] = [];
const agents: AgentProcess[] = [];
afterAll(() => {
  for (const a of agents) a.proc.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function agent(dataDir: string): Promise<AgentProcess> {
  const a = await startAgent([
    ...devAgentArgs(dataDir),
    "--node-name",
    "p1",
  ]);
  agents.push(a);
  return a;
}

/** Pids of processes whose command line is exactly `args`. */
function pidsOf(args: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((l) => /^\s*(\d+) (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[2] === args)
    .map((m) => Number(m[1]));
}

type Exec = {
  id: string;
  group: number;
  status: string;
  reason: string;
  output: string;
  attempt: number;
};
const api = (a: AgentProcess) => ({
  post: (path: string, body?: unknown) =>
    fetch(a.url + path, {
      method: "POST",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  executions: async (job: string): Promise<Exec[]> =>
    await (await fetch(`${a.url}/v1/jobs/${job}/executions?_order=ASC`)).json(),
  job: async (name: string) => await fetch(`${a.url}/v1/jobs/${name}`),
});
const shellJob = (name: string, command: string, extra: Record<string, unknown> = {}) => ({
  name,
  schedule: "@manually",
  executor: "shell",
  executor_config: { command, shell: "true" },
  ...extra,
});

describe("kill -9 of the server while jobs run", () => {
  test(
    "restart keeps finished runs, turns running ones lost, applies the policy, never fires a slot twice",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tock-kill9-"));
      dirs.push(dir);
      const ticks = join(dir, "ticks.txt");
      const orphanArg = `29.${process.pid % 1000}`; // a unique `sleep` argument to find in ps
      const a = await agent(join(dir, "data"));
      const c = api(a);
      expect(
        (await c.post(
          "/v1/jobs",
          shellJob("tick", `echo run >> ${ticks}`, { schedule: "@every 1s" }),
        )).status,
      ).toBe(201);
      expect(
        (await c.post(
          "/v1/jobs",
          shellJob("slow", `sleep ${orphanArg}`, { schedule: "@every 1s", concurrency: "forbid" }),
        )).status,
      ).toBe(201);
      await until("three ticks and a running slow job", async () => {
        const t = (await c.executions("tick")).filter((e) => e.status === "success");
        const s = (await c.executions("slow")).filter((e) => e.status === "running");
        return t.length >= 3 && s.length === 1 ? true : undefined;
      }, 20_000);
      const before = (await c.executions("tick")).filter((e) => e.status === "success").map((e) =>
        e.id
      );
      const orphanPids = pidsOf(`sleep ${orphanArg}`);
      expect(orphanPids.length).toBeGreaterThan(0);
      a.proc.kill("SIGKILL");
      await a.exited;
      // Downtime: slots pass while nothing runs (this wait is the scenario, not a condition poll).
      await new Promise((r) => setTimeout(r, 3_000));
      const b = await agent(join(dir, "data"));
      const d = api(b);
      const slow = await until("the slow run to be lost", async () => {
        const l = await d.executions("slow");
        return l.some((e) => e.status === "lost") ? l : undefined;
      }, 20_000);
      expect(slow.find((e) => e.status === "lost")?.reason).toContain("restarted");
      // The lost run's process group (detached, so it outlived the agent) was killed on restart.
      // (A new slow run may have started since: only the pids from before the kill must be gone.)
      expect(pidsOf(`sleep ${orphanArg}`).filter((p) => orphanPids.includes(p))).toEqual([]);
      const tick = await until("ticks after the restart", async () => {
        const l = await d.executions("tick");
        return l.filter((e) => e.status === "success").length >= before.length + 2 ? l : undefined;
      }, 20_000);
      const ids = tick.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(tick.map((e) => e.group)).size).toBe(tick.length);
      for (const id of before) expect(ids).toContain(id);
      // run_once: the downtime's slots became missed records except the latest, which ran late.
      const missed = tick.filter((e) => e.status === "missed");
      expect(missed.length).toBeGreaterThanOrEqual(1);
      expect(missed[0]?.reason).toContain("misfire_policy run_once");
      // Every successful run appended exactly one line; lost runs may or may not have.
      const lines = readFileSync(ticks, "utf8").trim().split("\n").length;
      const successes = tick.filter((e) => e.status === "success").length;
      const lost = tick.filter((e) => e.status === "lost").length;
      expect(lines).toBeGreaterThanOrEqual(successes);
      expect(lines).toBeLessThanOrEqual(successes + lost + 1); // +1: a run may be mid-append now
      b.proc.kill("SIGTERM");
      expect(await b.exited).toBe(0);
    },
    // Three 20 s waits, 3 s of downtime and two agent starts.
    90_000,
  );
});

describe("runs of real shell jobs", () => {
  test(
    "kill stops a running execution and its whole process group; forbid refuses, force runs",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tock-kill-"));
      dirs.push(dir);
      const a = await agent(join(dir, "data"));
      const c = api(a);
      const [s1, s2] = [`300.${process.pid % 1000}`, `301.${process.pid % 1000}`];
      await c.post(
        "/v1/jobs",
        shellJob("long", `sleep ${s1} & sleep ${s2}; echo done`, { concurrency: "forbid" }),
      );
      const id = (await c.post("/v1/jobs/long/run")).headers.get("x-execution-id");
      await until(
        "the children to start",
        () => (pidsOf(`sleep ${s2}`).length > 0 ? true : undefined),
        20_000,
      );
      const refused = await c.post("/v1/jobs/long/run");
      expect(refused.status).toBe(409);
      expect((await refused.json()).error).toContain("concurrency is forbid");
      const killed = await c.post(`/v1/jobs/long/executions/${id}/kill`);
      expect(killed.status).toBe(200);
      expect(await killed.json()).toMatchObject({
        status: "failed",
        reason: "killed: killed through the API",
      });
      expect([...pidsOf(`sleep ${s1}`), ...pidsOf(`sleep ${s2}`)]).toEqual([]);
      expect((await c.post(`/v1/jobs/long/executions/${id}/kill`)).status).toBe(400);
      const forced = await c.post("/v1/jobs/long/run?force=true");
      expect(forced.status).toBe(200);
      // Graceful stop kills what still runs (after its grace) so no sleep outlives the test.
      await c.post(`/v1/jobs/long/executions/${forced.headers.get("x-execution-id")}/kill`);
    },
    30_000,
  );

  test(
    "a failing job retries with backoff, then its child runs and the ephemeral parent is deleted",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tock-retry-"));
      dirs.push(dir);
      const a = await agent(join(dir, "data"));
      const c = api(a);
      const flag = join(dir, "second-try");
      await c.post(
        "/v1/jobs",
        shellJob("flaky", `if [ -f ${flag} ]; then echo ok; else touch ${flag}; exit 1; fi`, {
          retries: 2,
          retry_delay: "200ms",
          ephemeral: true,
        }),
      );
      await c.post(
        "/v1/jobs",
        shellJob("after", "echo child ran", { parent_job: "flaky", schedule: "" }),
      );
      // An ephemeral job with children is kept (deleting would orphan them); checked below.
      await c.post("/v1/jobs/flaky/run");
      const runs = await until("the retry to succeed", async () => {
        const l = await c.executions("flaky");
        return l.some((e) => e.status === "success") ? l : undefined;
      }, 8_000);
      expect(runs.map((e) => [e.attempt, e.status])).toEqual([[1, "failed"], [2, "success"]]);
      const child = await until("the child run", async () => {
        const l = await c.executions("after");
        return l[0]?.status === "success" ? l : undefined;
      }, 8_000);
      expect(child[0]?.output).toBe("child ran\n");
      expect((await (await c.job("flaky")).json()).status).toBe("success");
      // Now without children: the ephemeral job is deleted after its success.
      await fetch(`${a.url}/v1/jobs/after`, { method: "DELETE" });
      await c.post("/v1/jobs/flaky/run");
      await until(
        "the ephemeral job to be deleted",
        async () => ((await c.job("flaky")).status === 404 ? true : undefined),
        8_000,
      );
    },
    30_000,
  );

  test(
    "output beyond the cap is dropped but counted, and the API says it was truncated",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tock-cap-"));
      dirs.push(dir);
      const a = await agent(join(dir, "data"));
      const c = api(a);
      await c.post("/v1/jobs", shellJob("loud", "head -c 300000 /dev/zero | tr '\\0' x"));
      const id = (await c.post("/v1/jobs/loud/run")).headers.get("x-execution-id");
      const e = await until("the loud run", async () => {
        const x = await (await fetch(`${a.url}/v1/jobs/loud/executions/${id}`)).json();
        return x.status === "success" ? x : undefined;
      }, 20_000);
      expect(e.output_size).toBe(300_000);
      expect(e.output.length).toBe(256_000);
    },
    30_000,
  );
});
