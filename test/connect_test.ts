// Proves the Connect API on a real Tock node (SQLite store, propose() door, real shell executor)
// on the same port as REST: jobs written over Connect are the jobs REST shows and the reverse,
// both APIs reject the same bad job with the same message, and WatchExecution streams a real
// process's output while it runs (the second line is produced only after the first arrived) and
// ends with the finished execution.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { type Execution, JobService } from "../src/gen/tock/v1/job_pb.ts";
import { restRequest, testNodeForFile } from "./support/node.ts";

const served = testNodeForFile("tock-connect-", 5_000);

const connect = () =>
  createClient(JobService, createConnectTransport({ baseUrl: served.node.url }));
const grpcWeb = () =>
  createClient(JobService, createGrpcWebTransport({ baseUrl: served.node.url }));
const rest = (method: string, path: string, body?: object) =>
  restRequest(served.node.url, method, path, body);

describe("Connect on a real node", () => {
  test("a job upserted over Connect is the job REST returns, and a REST job reads over gRPC-web", async () => {
    const up = await connect().upsertJob({
      job: {
        name: "cjob",
        // Hourly: a fire (committed fireLeadMs ahead of its slot) between the upsert and the
        // GET would move `next` on; every 10 s made that a race.
        schedule: "@hourly",
        executor: "shell",
        executorConfig: { command: "date" },
      },
    });
    const viaRest = await (await rest("GET", "/v1/jobs/cjob")).json();
    expect(viaRest).toMatchObject({
      id: "cjob",
      schedule: "@hourly",
      executor: "shell",
      executor_config: { command: "date" },
      concurrency: "allow",
      next: new Date(Number(up.job!.next!.seconds) * 1000).toISOString().replace(".000Z", "Z"),
    });

    const created = await rest("POST", "/v1/jobs", {
      name: "rjob",
      schedule: "@daily",
      executor: "shell",
      executor_config: { command: "true" },
      metadata: { team: "ops" },
    });
    expect(created.status).toBe(201);
    const got = (await grpcWeb().getJob({ name: "rjob" })).job!;
    expect(got).toMatchObject({ id: "rjob", schedule: "@daily", metadata: { team: "ops" } });
    const listed = await connect().listJobs({ metadata: { team: "ops" } });
    expect(listed.jobs.map((j) => j.name)).toEqual(["rjob"]);
    expect(listed.total).toBe(1);
  });

  test("a browser's CORS preflight for Connect and gRPC-web headers is allowed", async () => {
    const pre = await fetch(served.node.url + "/tock.v1.JobService/GetJob", {
      method: "OPTIONS",
      headers: {
        origin: "http://ui.example",
        "access-control-request-method": "POST",
        "access-control-request-headers":
          "content-type,connect-protocol-version,x-grpc-web,x-user-agent",
      },
    });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "x-grpc-web", "x-user-agent"]) {
      expect(allowed).toContain(h);
    }
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
  });

  test("a bad schedule is rejected by Connect and REST with the same message", async () => {
    const body = {
      name: "badjob",
      schedule: "61 * * * *",
      executor: "shell",
      executor_config: { command: "date" },
    };
    const r = await rest("POST", "/v1/jobs", body);
    expect(r.status).toBe(400);
    const restError = ((await r.json()) as { error: string }).error;
    let err: ConnectError | undefined;
    try {
      await connect().upsertJob({
        job: {
          name: body.name,
          schedule: body.schedule,
          executor: "shell",
          executorConfig: { command: "date" },
        },
      });
    } catch (e) {
      err = ConnectError.from(e);
    }
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe(restError);
    expect((await rest("GET", "/v1/jobs/badjob")).status).toBe(404);
  });

  test("WatchExecution streams a running shell job's output as it is produced, then its end", async () => {
    const gate = join(served.dir, "gate");
    const command =
      `printf 'one\\n'; while [ ! -e '${gate}' ]; do sleep 0.01; done; printf 'two\\n'`;
    await connect().upsertJob({
      job: {
        name: "watched",
        schedule: "@manually",
        executor: "shell",
        executorConfig: { shell: "true", command },
      },
    });
    const started = (await connect().runJob({ name: "watched" })).execution!;
    expect(started.status).toBe("running");
    const stream = connect().watchExecution({ jobName: "watched", executionId: started.id })[
      Symbol.asyncIterator
    ]();
    let text = "";
    while (text !== "one\n") {
      const r = await stream.next();
      expect(r.value?.event.case).toBe("output");
      text += new TextDecoder().decode(r.value?.event.value as Uint8Array);
    }
    // The job waits for the gate: "two" cannot exist yet, so "one" came while the process ran.
    expect(existsSync(gate)).toBe(false);
    writeFileSync(gate, "");
    let finished: Execution | undefined;
    for (;;) {
      const r = await stream.next();
      if (r.done) break;
      if (r.value.event.case === "output") text += new TextDecoder().decode(r.value.event.value);
      else if (r.value.event.case === "finished") finished = r.value.event.value;
    }
    expect(text).toBe("one\ntwo\n");
    expect(finished).toMatchObject({ status: "success", exitCode: 0, output: "one\ntwo\n" });
    const listed =
      (await connect().listExecutions({ jobName: "watched", outputSizeLimit: 4 })).executions;
    expect(listed.map((e) => [e.id, e.output, e.outputTruncated])).toEqual([[
      started.id,
      "two\n",
      true,
    ]]);
  });
});

describe("Connect kill on a real node", () => {
  test("KillExecution stops a running shell process and returns the failed execution", async () => {
    await connect().upsertJob({
      job: {
        name: "sleeper",
        schedule: "@manually",
        executor: "shell",
        executorConfig: { shell: "true", command: "printf started; exec sleep 300" },
      },
    });
    const e = (await connect().runJob({ name: "sleeper" })).execution!;
    for await (const m of connect().watchExecution({ jobName: "sleeper", executionId: e.id })) {
      if (m.event.case === "output") break; // the process is up
    }
    const killed = (await grpcWeb().killExecution({ jobName: "sleeper", executionId: e.id }))
      .execution!;
    expect(killed.id).toBe(e.id);
    expect(killed.status).toBe("failed");
    expect(killed.success).toBe(false);
    expect(killed.finishedAt).toBeDefined();
    expect(killed.output).toContain("started");
  });
});

// Figures, not assertions: run with TOCK_CONNECT_BENCH=1 (skipped in the default suite).
describe.if(process.env["TOCK_CONNECT_BENCH"] === "1")("Connect figures on a real node", () => {
  const pct = (xs: number[], p: number) =>
    xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] as number;
  const timeCalls = async (n: number, call: (i: number) => Promise<unknown>) => {
    const us: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await call(i);
      us.push((performance.now() - t) * 1000);
    }
    return `p50 ${pct(us, 0.5).toFixed(0)} µs, p99 ${pct(us, 0.99).toFixed(0)} µs (${n} calls)`;
  };

  test("prints upsert, get and list latency through SQLite", async () => {
    const c = connect();
    const job = (i: number) => ({
      name: `bench-${String(i).padStart(5, "0")}`,
      schedule: "@every 1h",
      executor: "shell",
      executorConfig: { command: "true" },
    });
    console.log(`UpsertJob (new): ${await timeCalls(2000, (i) => c.upsertJob({ job: job(i) }))}`);
    console.log(
      `UpsertJob (update): ${await timeCalls(1000, (i) => c.upsertJob({ job: job(i) }))}`,
    );
    console.log(`GetJob: ${await timeCalls(2000, (i) => c.getJob({ name: job(i).name }))}`);
    console.log(
      `ListJobs (2000 jobs, page of 25): ${await timeCalls(
        500,
        (i) => c.listJobs({ q: "bench-", start: (i * 25) % 1975, end: ((i * 25) % 1975) + 25 }),
      )}`,
    );
  }, 300_000);
});
