// Regression tests for issue 14's API defects on a real in-process node: a Location header that
// broke after the write, byte-counted body limits, Connect's code for an undecodable body,
// create-time validation, executor name case, live output in /v1/busy, dated missed records
// and /debug/vars.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { restRequest, testNodeForFile } from "./support/node.ts";
import { notYet, slowWait, until } from "./support/proc.ts";

const served = testNodeForFile("tock-api-defects-");

const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  restRequest(served.node.url, method, path, body, headers);
const manual = (name: string, config: Record<string, string> = { command: "echo hi" }) => ({
  name,
  schedule: "@manually",
  executor: "shell",
  executor_config: config,
});
const executions = async (job: string) =>
  (await (await req("GET", `/v1/jobs/${encodeURIComponent(job)}/executions`)).json()) as Array<
    Record<string, unknown>
  >;

describe("Location after a committed create", () => {
  test("names above U+00FF and in Latin-1 are percent-encoded, with runoncreate too", async () => {
    for (const name of ["łódź-ćš", "café"]) {
      const res = await req("POST", "/v1/jobs?runoncreate", manual(name));
      expect({ name, status: res.status, text: res.status === 201 ? "" : await res.text() })
        .toEqual({ name, status: 201, text: "" });
      expect(res.headers.get("location")).toBe(`/v1/jobs/${encodeURIComponent(name)}`);
      const got = await req("GET", res.headers.get("location") as string);
      expect((await got.json()).name).toBe(name);
      await until(`the runoncreate run of ${name}`, async () => {
        const l = await executions(name);
        return l.length >= 1 && l[0]?.status === "success" ? l : notYet(l);
      }, 10_000);
    }
  }, slowWait.testMs);
});

describe("request body limit", () => {
  const limit = 1 << 20;
  // 600,000 × "é" is 1.2 MB as UTF-8 but 0.6 M UTF-16 units.
  const big = JSON.stringify({ ...manual("big"), displayname: "é".repeat(600_000) });
  const chunked = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length; at += 64 * 1024) c.enqueue(bytes.slice(at, at + 65536));
        c.close();
      },
    });
  test("counts bytes: a body over the limit is 413 with Content-Length and chunked alike", async () => {
    expect(new TextEncoder().encode(big).length).toBeGreaterThan(limit);
    expect(big.length).toBeLessThan(limit);
    const declared = await req("POST", "/v1/jobs", big);
    expect(declared.status).toBe(413);
    const streamed = await fetch(served.node.url + "/v1/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked(big),
    });
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error).toContain("above the limit 1048576");
    expect((await req("GET", "/v1/jobs/big")).status).toBe(404);
  });
  test("a chunked body under the limit is read whole", async () => {
    const res = await fetch(served.node.url + "/v1/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked(JSON.stringify({ ...manual("chunked"), displayname: "é".repeat(1000) })),
    });
    expect(res.status).toBe(201);
    expect((await res.json()).displayname).toBe("é".repeat(1000));
  });
});

describe("Connect", () => {
  test("a garbage binary body is invalid_argument, not internal", async () => {
    const res = await fetch(served.node.url + "/tock.v1.JobService/GetJob", {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]),
    });
    const body = await res.json();
    expect({ status: res.status, code: body.code }).toEqual({
      status: 400,
      code: "invalid_argument",
    });
    expect(body.message).toContain("tock.v1.GetJobRequest");
  });
});

describe("create-time validation", () => {
  test("NUL bytes, a non-boolean shell and bad time zones are 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [manual("nul-cmd", { command: "echo a\u0000b" }), "command contains a NUL byte"],
      [manual("nul-env-k", { command: "x", env: "A\u0000B=1" }), "NUL byte"],
      [manual("nul-env-v", { command: "x", env: "A=1\u0000" }), "NUL byte"],
      [manual("maybe", { command: "x", shell: "maybe" }), 'shell "maybe" is not a boolean'],
      [{ ...manual("tz-case"), timezone: "europe/berlin" }, 'field "timezone"'],
      [{ ...manual("tz-offset"), timezone: "+02:00" }, 'field "timezone"'],
    ];
    for (const [body, text] of cases) {
      const res = await req("POST", "/v1/jobs", body);
      expect({ job: body.name, status: res.status }).toEqual({ job: body.name, status: 400 });
      expect((await res.json()).error).toContain(text);
      expect((await req("GET", `/v1/jobs/${body.name}`)).status).toBe(404);
    }
  });
});

describe("executor names", () => {
  test('"Shell" is accepted and stored as "shell"; an unknown name is still refused', async () => {
    const res = await req("POST", "/v1/jobs", { ...manual("cased"), executor: "Shell" });
    expect(res.status).toBe(201);
    expect((await res.json()).executor).toBe("shell");
    expect((await (await req("GET", "/v1/jobs/cased")).json()).executor).toBe("shell");
    // (Kafka exists since issue 12; Pulsar does not.)
    const bad = await req("POST", "/v1/jobs", { ...manual("pulsar"), executor: "Pulsar" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toContain('unknown executor "pulsar"');
  });
});

describe("/v1/busy", () => {
  test("a running execution is listed with its output so far", async () => {
    const flag = join(served.dir, "busy-go-on");
    const cmd = "echo first; while [ ! -f $FLAG ]; do sleep 0.05; done";
    await req(
      "POST",
      "/v1/jobs",
      manual("busy", { command: cmd, shell: "true", env: `FLAG=${flag}` }),
    );
    const id = (await req("POST", "/v1/jobs/busy/run")).headers.get("x-execution-id");
    try {
      const busy = await until("the busy run with its first line", async () => {
        const l = (await (await req("GET", "/v1/busy")).json()) as Array<Record<string, unknown>>;
        const e = l.find((x) => x.id === id);
        return e?.output === "first\n" ? e : notYet(l);
      }, 10_000);
      expect(busy.status).toBe("running");
    } finally {
      writeFileSync(flag, "");
    }
    await until("the busy run to end", async () => {
      const l = await executions("busy");
      return l[0]?.status === "success" ? l : notYet(l);
    }, 10_000);
  }, slowWait.testMs);
});

describe("missed executions", () => {
  test("are dated at their slot and name the node that judged them", async () => {
    const flag = join(served.dir, "missed-go-on");
    await req("POST", "/v1/jobs", {
      name: "forbidden",
      schedule: "@every 1s",
      concurrency: "forbid",
      executor: "shell",
      executor_config: {
        command: "while [ ! -f $FLAG ]; do sleep 0.05; done",
        shell: "true",
        env: `FLAG=${flag}`,
      },
    });
    let missed: Record<string, unknown>;
    try {
      missed = await until("a slot missed under concurrency forbid", async () => {
        const l = await executions("forbidden");
        return l.find((e) => e.status === "missed") ?? notYet(l);
      }, slowWait.untilMs);
    } finally {
      writeFileSync(flag, "");
      await req("POST", "/v1/jobs/forbidden/toggle");
    }
    const slot = Number(missed.group) / 1e6;
    expect(missed).toMatchObject({ status: "missed", success: false, node_name: "test-node" });
    expect(missed.reason).toContain("concurrency forbid");
    expect(Date.parse(missed.started_at as string)).toBe(slot);
    expect(Date.parse(missed.finished_at as string)).toBe(slot);
  }, slowWait.testMs);
});

describe("/debug/vars", () => {
  test("is a JSON object with command line, memory, uptime and Tock's counters", async () => {
    const res = await req("GET", "/debug/vars");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const vars = await res.json();
    expect(Array.isArray(vars.cmdline)).toBe(true);
    expect(vars.memstats.rss).toBeGreaterThan(0);
    expect(vars.memstats.heap_used).toBeGreaterThan(0);
    expect(vars.uptime_seconds).toBeGreaterThan(0);
    expect(typeof vars.tock.tock_launches_total).toBe("number");
    expect(typeof vars.tock.tock_jobs).toBe("number");
  });
});
