// Proves the Dkron-compatible REST API against a real server on an ephemeral port: every route,
// Dkron's status codes, JSON error bodies that name the problem, and that bad input stores nothing.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { restRequest, testNodeForFile } from "./support/node.ts";
import { notYet, slowWait, until } from "./support/proc.ts";

const served = testNodeForFile("tock-api-");

const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  restRequest(served.node.url, method, path, body, headers);
const job1 = {
  name: "job1",
  schedule: "@every 10s",
  executor: "shell",
  executor_config: { command: "echo hello" },
};

async function expectError(res: Response, status: number, text: string) {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error).toContain(text);
}

describe("node routes", () => {
  test("/health is healthy without X-Whom; /v1 shows the agent; X-Whom names the node", async () => {
    const h = await req("GET", "/health");
    expect(await h.json()).toEqual({ status: "healthy" });
    expect(h.headers.get("x-whom")).toBeNull();
    const s = await req("GET", "/v1");
    expect(s.headers.get("x-whom")).toBe("test-node");
    const body = await s.json();
    expect(body.agent.name).toBe("test-node");
    expect(body.tags).toEqual({ dc: "dc1" });
  });
  test("members, leader, isleader", async () => {
    const m = await req("GET", "/v1/members");
    expect(m.headers.get("x-total-count")).toBe("1");
    const [member] = await m.json();
    expect(member).toMatchObject({ Name: "test-node", Status: 1, statusText: "alive" });
    expect(typeof member.id).toBe("string");
    const l = await (await req("GET", "/v1/leader")).json();
    expect(l.Name).toBe("test-node");
    expect(l.id).toBeUndefined();
    const il = await req("GET", "/v1/isleader");
    expect(il.status).toBe(200);
    expect(await il.json()).toBe("I am a leader");
  });
  test("CORS answers preflight and exposes headers; ?pretty indents", async () => {
    const pre = await fetch(served.node.url + "/v1/jobs", {
      method: "OPTIONS",
      headers: { origin: "http://example.test", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const pretty = await (await req("GET", "/v1/pause?pretty")).text();
    expect(pretty).toBe('{\n  "paused": false\n}\n');
  });
  test("unknown routes are a JSON 404; the OpenAPI document is served", async () => {
    await expectError(await req("GET", "/v1/nope"), 404, "no route for GET /v1/nope");
    const doc = await (await req("GET", "/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/v1/jobs/{job}/executions/{execution}");
  });
});

describe("jobs", () => {
  test("create returns 201 with Location; get, list and X-Total-Count", async () => {
    const res = await req("POST", "/v1/jobs", job1);
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("/v1/jobs/job1");
    const created = await res.json();
    expect(created).toMatchObject({ id: "job1", name: "job1", concurrency: "allow", status: "" });
    expect(created.next).not.toBe("0001-01-01T00:00:00Z");
    const got = await (await req("GET", "/v1/jobs/job1")).json();
    expect(Object.keys(got)).toHaveLength(26 + 4); // Dkron's 26 fields + misfire_policy, starting_deadline, retry_delay(_max)
    const list = await req("GET", "/v1/jobs");
    expect(list.headers.get("x-total-count")).toBe("1");
    expect((await list.json())[0].name).toBe("job1");
  });

  test("PATCH and PUT are full replaces like POST; the body name wins on PUT", async () => {
    const p = await req("PATCH", "/v1/jobs", { ...job1, owner: "ops" });
    expect(p.status).toBe(201);
    const u = await req("PUT", "/v1/jobs/ignored", { ...job1, owner: "platform" });
    expect(u.status).toBe(201);
    expect(u.headers.get("location")).toBe("/v1/jobs/ignored/job1");
    expect((await (await req("GET", "/v1/jobs/job1")).json()).owner).toBe("platform");
    expect((await req("GET", "/v1/jobs/ignored")).status).toBe(404);
  });

  test("bad input is 400 naming the field and stores nothing", async () => {
    await expectError(await req("POST", "/v1/jobs", "{not json"), 400, "Unable to parse payload");
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, name: "bad1", retries: "x" }),
      400,
      '"retries"',
    );
    await expectError(
      await req("POST", "/v1/jobs", {
        ...job1,
        name: "bad2",
        executor_config: { command: "x", timeout: 5 },
      }),
      400,
      '"executor_config.timeout" must be a string',
    );
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, name: "Bad Name" }),
      400,
      "illegal character 'B'",
    );
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, name: "bad3", schedule: "61 * * * * *" }),
      400,
      "schedule",
    );
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, name: "bad4", timezone: "Nowhere/City" }),
      400,
      "unknown time zone",
    );
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, name: "bad5", executor: "teleport" }),
      400,
      'unknown executor "teleport"',
    );
    await expectError(await req("POST", "/v1/jobs", "x".repeat(2 << 20)), 413, "above the limit");
    const names = (await (await req("GET", "/v1/jobs")).json()).map((j: { name: string }) =>
      j.name
    );
    expect(names.filter((n: string) => n.startsWith("bad"))).toEqual([]);
  });

  test("a missing parent is 404 and nothing is stored; a cycle is 400", async () => {
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, name: "orphan", parent_job: "nope", schedule: "" }),
      404,
      "parent job not found",
    );
    expect((await req("GET", "/v1/jobs/orphan")).status).toBe(404);
    expect(
      (await req("POST", "/v1/jobs", { ...job1, name: "child1", parent_job: "job1", schedule: "" }))
        .status,
    ).toBe(201);
    await expectError(
      await req("POST", "/v1/jobs", { ...job1, parent_job: "child1" }),
      400,
      "cycle",
    );
    expect((await (await req("GET", "/v1/jobs/job1")).json()).dependent_jobs).toEqual(["child1"]);
  });

  test("delete of a job with children is refused (404 as Dkron) with a clear message", async () => {
    await expectError(await req("DELETE", "/v1/jobs/job1"), 404, "has dependent jobs (child1)");
    expect((await req("DELETE", "/v1/jobs/child1")).status).toBe(200);
    await expectError(await req("DELETE", "/v1/jobs/child1"), 404, 'job "child1" not found');
  });

  test("list filters, sorting, paging and their errors", async () => {
    for (
      const [name, md] of [["lst-a", { t1: "v1" }], ["lst-b", { t1: "v1", t2: "v2" }], [
        "lst-c",
        null,
      ]] as const
    ) {
      await req("POST", "/v1/jobs", { ...job1, name, metadata: md, disabled: name === "lst-c" });
    }
    const names = async (q: string) =>
      (await (await req("GET", `/v1/jobs?${q}`)).json()).map((j: { name: string }) => j.name);
    expect(await names("q=lst-")).toEqual(["lst-a", "lst-b", "lst-c"]);
    expect(await names("metadata[t1]=v1")).toEqual(["lst-a", "lst-b"]);
    expect(await names("metadata[t1]=v1&metadata[t2]=v2")).toEqual(["lst-b"]);
    expect(await names("q=lst-&disabled=true")).toEqual(["lst-c"]);
    expect(await names("q=lst-&status=untriggered&_sort=name&_order=DESC")).toEqual([
      "lst-c",
      "lst-b",
      "lst-a",
    ]);
    const page = await req("GET", "/v1/jobs?q=lst-&_start=1&_end=2");
    expect(page.headers.get("x-total-count")).toBe("3");
    expect((await page.json()).map((j: { name: string }) => j.name)).toEqual(["lst-b"]);
    await expectError(
      await req("GET", "/v1/jobs?_start=abc"),
      400,
      "_start must be a non-negative integer",
    );
    await expectError(await req("GET", "/v1/jobs?_start=5&_end=2"), 400, "greater than _end");
    await expectError(
      await req("GET", "/v1/jobs?_sort=timezone"),
      400,
      '_sort "timezone" is not sortable',
    );
  });

  test("toggle flips disabled; next runs are listed", async () => {
    const t = await (await req("POST", "/v1/jobs/lst-a/toggle")).json();
    expect(t.disabled).toBe(true);
    expect((await req("POST", "/v1/jobs/nope/toggle")).status).toBe(404);
    const next = await (await req("GET", "/v1/jobs/job1/next?n=3")).json();
    expect(next).toHaveLength(3);
    expect(Date.parse(next[1]) - Date.parse(next[0])).toBe(10_000);
    await expectError(await req("GET", "/v1/jobs/job1/next?n=0"), 400, "n must be");
  });

  test("pause blocks create/update with 503 until unpause", async () => {
    expect(await (await req("POST", "/v1/pause")).json()).toEqual({ paused: true });
    await expectError(await req("POST", "/v1/jobs", { ...job1, name: "paused1" }), 503, "paused");
    expect(await (await req("GET", "/v1/pause")).json()).toEqual({ paused: true });
    expect(await (await req("POST", "/v1/unpause")).json()).toEqual({ paused: false });
    expect((await req("POST", "/v1/jobs", { ...job1, name: "paused1" })).status).toBe(201);
  });
});

describe("runs and executions", () => {
  // Manual jobs: an `@every` slot could add a run while a test counts executions.
  const manualJob = { ...job1, schedule: "@manually" };
  test(
    "run executes the shell command; executions list, get, truncation, busy and clear",
    async () => {
      expect((await req("POST", "/v1/jobs", { ...manualJob, name: "runs" })).status).toBe(201);
      const run = await req("POST", "/v1/jobs/runs/run");
      expect(run.status).toBe(200);
      const id = run.headers.get("x-execution-id") as string;
      expect(id).toMatch(/^\d+-1$/);
      const done = await until("execution to finish", async () => {
        const e = await (await req("GET", `/v1/jobs/runs/executions/${id}`)).json();
        return e.status === "running" ? notYet(e) : e;
      }, slowWait.untilMs);
      expect(done).toMatchObject({
        success: true,
        status: "success",
        output: "hello\n",
        exit_code: 0,
        attempt: 1,
      });
      expect(await req("POST", "/v1/jobs/runs")).toHaveProperty("status", 200);
      await until("second run", async () => {
        const l = await (await req("GET", "/v1/jobs/runs/executions")).json();
        return l.length === 2 && l.every((e: { status: string }) => e.status !== "running")
          ? l
          : notYet(l);
      }, slowWait.untilMs);
      const list = await req("GET", "/v1/jobs/runs/executions?output_size_limit=2");
      expect(list.headers.get("x-total-count")).toBe("2");
      const items = await list.json();
      expect(items[0]).toMatchObject({ output: "o\n", output_truncated: true });
      expect(Date.parse(items[0].started_at)).toBeGreaterThanOrEqual(
        Date.parse(items[1].started_at),
      );
      expect((await (await req("GET", "/v1/jobs/runs")).json()).success_count).toBe(2);
      // Other tests' scheduled jobs (job1 fires @every) may be running: look at this job only.
      const busy = (await (await req("GET", "/v1/busy")).json()) as { job_name: string }[];
      expect(busy.filter((e) => e.job_name === "runs")).toEqual([]);
      await expectError(
        await req("GET", "/v1/jobs/runs/executions?_sort=bogus"),
        400,
        "not sortable",
      );
      await expectError(await req("GET", "/v1/jobs/runs/executions/nope"), 404, 'execution "nope"');
      await expectError(await req("GET", "/v1/jobs/nope/executions"), 404, 'job "nope" not found');
      const cleared = await (await req("DELETE", "/v1/jobs/runs/executions")).json();
      expect(cleared).toMatchObject({ success_count: 0, last_success: null });
      expect(await (await req("GET", "/v1/jobs/runs/executions")).json()).toEqual([]);
      await expectError(await req("DELETE", "/v1/jobs/nope/executions"), 404, "not found");
      await expectError(await req("POST", "/v1/jobs/nope/run"), 404, "not found");
    },
    slowWait.testMs,
  );

  test("runoncreate starts a run after saving", async () => {
    const created = await req("POST", "/v1/jobs?runoncreate", { ...manualJob, name: "roc" });
    expect(created.status).toBe(201);
    const execs = await until("runoncreate execution", async () => {
      const l = await (await req("GET", "/v1/jobs/roc/executions")).json();
      return l.length === 1 && l[0].status === "success" ? l : notYet(l);
    }, slowWait.untilMs);
    expect(execs[0].output).toBe("hello\n");
  }, slowWait.testMs);

  test("a failing command records exit code and failure", async () => {
    await req("POST", "/v1/jobs", {
      ...manualJob,
      name: "fails",
      executor_config: { command: "exit 3", shell: "true" },
    });
    const id = (await req("POST", "/v1/jobs/fails/run")).headers.get("x-execution-id");
    const e = await until("failed execution", async () => {
      const x = await (await req("GET", `/v1/jobs/fails/executions/${id}`)).json();
      return x.status === "running" ? notYet(x) : x;
    }, slowWait.untilMs);
    expect(e).toMatchObject({ success: false, status: "failed", exit_code: 3 });
    expect((await (await req("GET", "/v1/jobs/fails")).json()).status).toBe("failed");
  }, slowWait.testMs);
});

describe("schedules", () => {
  test("invalid specs and @at in the past are 400 naming the problem; nothing is stored", async () => {
    for (
      const [schedule, text] of [
        ["@every 0s", "@every 0s"],
        ["61 * * * * *", "61"],
        ["TZ=Mars/Base 0 * * * * *", "Mars/Base"],
        ["@at 2001-01-01T00:00:00Z", "@at"],
        ["* * *", "3 fields"],
      ]
    ) {
      const res = await req("POST", "/v1/jobs", { ...job1, name: "badsched", schedule });
      expect({ schedule, status: res.status }).toEqual({ schedule, status: 400 });
      expect((await res.json()).error).toContain(text as string);
    }
    expect((await req("GET", "/v1/jobs/badsched")).status).toBe(404);
  });

  test("a running execution shows its output so far in GET and ends with all of it", async () => {
    const cmd = "echo first; while [ ! -f $FLAG ]; do sleep 0.05; done; echo second";
    const flag = join(served.dir, "go-on");
    await req("POST", "/v1/jobs", {
      ...job1,
      schedule: "@manually",
      name: "live",
      executor_config: { command: cmd, shell: "true", env: `FLAG=${flag}` },
    });
    const id = (await req("POST", "/v1/jobs/live/run")).headers.get("x-execution-id");
    const partial = await until("the first line while running", async () => {
      const e = await (await req("GET", `/v1/jobs/live/executions/${id}`)).json();
      return e.status === "running" && e.output === "first\n" ? e : notYet(e);
    }, slowWait.untilMs);
    expect(partial.finished_at).toBe("0001-01-01T00:00:00Z");
    writeFileSync(flag, "");
    const done = await until("the end", async () => {
      const e = await (await req("GET", `/v1/jobs/live/executions/${id}`)).json();
      return e.status === "success" ? e : notYet(e);
    }, slowWait.untilMs);
    expect(done.output).toBe("first\nsecond\n");
  }, slowWait.testMs);
});

describe("restore", () => {
  test("creates parents first and answers Dkron's double-encoded lines", async () => {
    const file = [
      { ...job1, name: "r-child", parent_job: "r-parent", schedule: "" },
      { ...job1, name: "r-parent" },
    ];
    const form = new FormData();
    form.set("file", new Blob([JSON.stringify(file)]), "backup.json");
    const res = await fetch(served.node.url + "/v1/restore", { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.json())).toEqual([
      "success create r-parent",
      "success create r-child",
    ]);
    expect((await (await req("GET", "/v1/jobs/r-parent")).json()).dependent_jobs).toEqual([
      "r-child",
    ]);
  });
  test("missing file is 404; bad JSON, invalid jobs and absent parents are 400", async () => {
    const post = (f: FormData) =>
      fetch(served.node.url + "/v1/restore", { method: "POST", body: f });
    const empty = new FormData();
    empty.set("other", "x");
    await expectError(await post(empty), 404, 'no "file" field');
    const bad = new FormData();
    bad.set("file", new Blob(["[{"]));
    await expectError(await post(bad), 400, "not valid JSON");
    const invalidJob = new FormData();
    invalidJob.set("file", new Blob([JSON.stringify([{ ...job1, name: "X" }])]));
    await expectError(await post(invalidJob), 400, "job #0");
    const orphan = new FormData();
    orphan.set(
      "file",
      new Blob([JSON.stringify([{ ...job1, name: "o", parent_job: "job1", schedule: "" }])]),
    );
    await expectError(await post(orphan), 400, "not in the file");
  });
});
