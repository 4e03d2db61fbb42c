// Proves ACLs on a real node (SQLite, propose door, real shell executor) on every surface:
// each capability (read, list, write, run, kill, delete, operator) allows exactly its action on
// the jobs its glob names over REST, Connect and the CLI; bootstrap happens once; secrets are
// stored only as hashes; a job's owner comes from the token; writes are audited with paging.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { runCli } from "../src/cli/mod.ts";
import { JobService } from "../src/gen/tock/v1/job_pb.ts";
import { defaultNodeIo } from "../src/node/mod.ts";
import { loadRuntime, type Runtime } from "../src/runtime/mod.ts";
import { restRequest, startTestNode, type TestNode } from "./support/node.ts";
import { until } from "./support/proc.ts";

let node: TestNode;
let dir: string;
let root: string;
type Who = "read" | "list" | "write" | "run" | "kill" | "delete" | "pause" | "audit";
const secrets = {} as Record<Who, string>;

const rest = (secret: string | undefined, method: string, path: string, body?: object) =>
  restRequest(
    node.url,
    method,
    path,
    body,
    secret === undefined ? {} : { authorization: `Bearer ${secret}` },
  );

const connect = (secret: string) => {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${secret}`);
    return next(req);
  };
  return createClient(
    JobService,
    createConnectTransport({ baseUrl: node.url, interceptors: [auth] }),
  );
};

async function connectCode(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof ConnectError) return e.code;
    throw e;
  }
}

let runtime: Runtime;
async function tock(env: Record<string, string>, ...args: string[]) {
  let out = "", err = "";
  const code = await runCli(
    {
      runtime: { ...runtime, env: (n) => env[n] ?? runtime.env(n) },
      out: (l) => (out += l + "\n"),
      write: (chunk) => (out += new TextDecoder().decode(chunk)),
      err: (l) => (err += l + "\n"),
      nodeIo: () => defaultNodeIo(runtime),
    },
    [...args, "--address", node.url],
  );
  return { code, out, err };
}

const job = (name: string, command = "echo hi") => ({
  name,
  schedule: "@daily",
  executor: "shell",
  executor_config: { command },
});

beforeAll(async () => {
  runtime = await loadRuntime();
  dir = mkdtempSync(join(tmpdir(), "tock-acl-api-"));
  node = await startTestNode(join(dir, "data"), "acl-node", { aclEnabled: true });
  const boot = await rest(undefined, "POST", "/v1/acl/bootstrap");
  expect(boot.status).toBe(200);
  root = (await boot.json()).secret;
  for (const name of ["team-a", "team-sleep", "team-del", "other-b", "other-del"]) {
    const cmd = name === "team-sleep" ? "sleep 30" : "echo hi";
    expect((await rest(root, "POST", "/v1/jobs", job(name, cmd))).status).toBe(201);
  }
  for (const cap of ["read", "list", "write", "run", "kill", "delete"]) {
    expect(
      (await rest(root, "POST", "/v1/acl/policies", {
        name: `p-${cap}`,
        jobs: { "team-*": [cap] },
      }))
        .status,
    ).toBe(200);
  }
  await rest(root, "POST", "/v1/acl/policies", { name: "p-pause", operator: ["pause"] });
  await rest(root, "POST", "/v1/acl/policies", { name: "p-audit", operator: ["audit"] });
  for (const cap of ["read", "list", "write", "run", "kill", "delete", "pause", "audit"] as const) {
    const res = await rest(root, "POST", "/v1/acl/tokens", {
      name: `t-${cap}`,
      policies: [`p-${cap}`],
    });
    expect(res.status).toBe(200);
    secrets[cap] = (await res.json()).secret;
  }
}, 30_000);

afterAll(async () => {
  await node.stop(2_000); // team-sleep may still run: it is killed after the grace
  rmSync(dir, { recursive: true, force: true });
}, 20_000);

describe("bootstrap and tokens", () => {
  test("bootstrap works once per cluster; the answer carries the secret, lists never do", async () => {
    const again = await rest(undefined, "POST", "/v1/acl/bootstrap");
    expect(again.status).toBe(409);
    expect((await again.json()).error).toContain("ACL bootstrap already done");
    const list = await (await rest(root, "GET", "/v1/acl/tokens")).json();
    expect(list.length).toBe(9);
    for (const t of list) {
      expect(Object.keys(t).sort()).toEqual(["accessor", "created_at", "name", "policies", "type"]);
    }
  });

  test("state.db holds only hashes: no secret appears in it", () => {
    const files = ["state.db", "state.db-wal"].map((f) => join(dir, "data", f)).filter(existsSync);
    const db = files.map((f) => readFileSync(f).toString("latin1")).join("");
    for (const s of [root, ...Object.values(secrets)]) expect(db.includes(s)).toBe(false);
  });

  test("a deleted token stops working at once", async () => {
    const res = await rest(root, "POST", "/v1/acl/tokens", { name: "temp", policies: ["p-read"] });
    const t = await res.json();
    expect((await rest(t.secret, "GET", "/v1/jobs/team-a")).status).toBe(200);
    expect((await rest(root, "DELETE", `/v1/acl/tokens/${t.accessor}`)).status).toBe(200);
    expect((await rest(t.secret, "GET", "/v1/jobs/team-a")).status).toBe(401);
  });

  test("client tokens cannot administer ACLs; a token naming a missing policy is refused", async () => {
    expect((await rest(secrets.write, "GET", "/v1/acl/tokens")).status).toBe(403);
    const bad = await rest(root, "POST", "/v1/acl/tokens", { name: "x", policies: ["nope"] });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toContain('policy "nope" does not exist');
  });
});

describe("capabilities over REST", () => {
  test("read: get a team job, not another one; 401 without a token", async () => {
    expect((await rest(secrets.read, "GET", "/v1/jobs/team-a")).status).toBe(200);
    expect((await rest(secrets.read, "GET", "/v1/jobs/team-a/executions")).status).toBe(200);
    const denied = await rest(secrets.read, "GET", "/v1/jobs/other-b");
    expect(denied.status).toBe(403);
    expect((await denied.json()).error).toContain('lacks capability "read" on job "other-b"');
    expect((await rest(undefined, "GET", "/v1/jobs/team-a")).status).toBe(401);
    expect((await rest(secrets.list, "GET", "/v1/jobs/team-a")).status).toBe(403);
  });

  test("percent-encoded names are checked by the name the handler sees", async () => {
    expect((await rest(secrets.read, "GET", "/v1/jobs/team%2Da")).status).toBe(200);
    expect((await rest(secrets.read, "GET", "/v1/jobs/other%2Db")).status).toBe(403);
    expect((await rest(secrets.read, "GET", "/v1/jobs/team-a%2F..%2Fother-b")).status).not.toBe(
      200,
    );
  });

  test("restore needs operator on restore, and write on each job it creates", async () => {
    const form = new FormData();
    form.set("file", JSON.stringify([job("other-restored")]));
    const post = (secret: string) =>
      fetch(`${node.url}/v1/restore`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}` },
        body: form,
      });
    expect((await post(secrets.write)).status).toBe(403);
    const res = await rest(root, "POST", "/v1/acl/policies", {
      name: "p-restore",
      operator: ["restore"],
      jobs: { "team-*": ["write"] },
    });
    expect(res.status).toBe(200);
    const t = await (await rest(root, "POST", "/v1/acl/tokens", {
      name: "t-restore",
      policies: ["p-restore"],
    })).json();
    const restored = await post(t.secret);
    expect(restored.status).toBe(200);
    expect(JSON.parse(await restored.json())).toEqual(["fail create other-restored"]);
    expect((await rest(root, "GET", "/v1/jobs/other-restored")).status).toBe(404);
  });

  test("list: only the jobs the glob names are listed, with a matching total", async () => {
    const res = await rest(secrets.list, "GET", "/v1/jobs");
    const names = (await res.json()).map((j: { name: string }) => j.name).sort();
    expect(names).toEqual(["team-a", "team-del", "team-sleep"]);
    expect(res.headers.get("x-total-count")).toBe("3");
    expect((await rest(secrets.read, "GET", "/v1/jobs")).status).toBe(403);
  });

  test("write: create and toggle team jobs (owner from the token); other names are refused", async () => {
    const created = await rest(secrets.write, "POST", "/v1/jobs", job("team-new"));
    expect(created.status).toBe(201);
    expect((await created.json()).owner).toBe("t-write");
    const given = await rest(secrets.write, "POST", "/v1/jobs", {
      ...job("team-own"),
      owner: "ops",
    });
    expect((await given.json()).owner).toBe("ops");
    const other = await rest(secrets.write, "POST", "/v1/jobs", job("other-new"));
    expect(other.status).toBe(403);
    expect((await other.json()).error).toContain('lacks capability "write" on job "other-new"');
    expect((await rest(root, "GET", "/v1/jobs/other-new")).status).toBe(404);
    expect((await rest(secrets.write, "POST", "/v1/jobs/team-new/toggle")).status).toBe(200);
    expect((await rest(secrets.write, "POST", "/v1/jobs/other-b/toggle")).status).toBe(403);
    expect((await rest(secrets.run, "POST", "/v1/jobs", job("team-x"))).status).toBe(403);
  });

  test("run: run a team job, not another", async () => {
    const res = await rest(secrets.run, "POST", "/v1/jobs/team-a/run");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-execution-id")).toBeTruthy();
    expect((await rest(secrets.run, "POST", "/v1/jobs/other-b/run")).status).toBe(403);
    expect((await rest(secrets.read, "POST", "/v1/jobs/team-a/run")).status).toBe(403);
  });

  test("kill: kill a running team execution; a read token cannot", async () => {
    const started = await rest(root, "POST", "/v1/jobs/team-sleep/run");
    const id = started.headers.get("x-execution-id") as string;
    const path = `/v1/jobs/team-sleep/executions/${id}/kill`;
    expect((await rest(secrets.read, "POST", path)).status).toBe(403);
    const killed = await until("the kill to be answered", async () => {
      const r = await rest(secrets.kill, "POST", path);
      return r.status === 200 ? await r.json() : undefined;
    }, 20_000);
    expect(killed.status).toBe("failed");
  }, 30_000);

  test("delete: delete a team job and its executions, not another", async () => {
    expect((await rest(secrets.delete, "DELETE", "/v1/jobs/team-a/executions")).status).toBe(200);
    expect((await rest(secrets.delete, "DELETE", "/v1/jobs/team-del")).status).toBe(200);
    expect((await rest(secrets.delete, "DELETE", "/v1/jobs/other-del")).status).toBe(403);
    expect((await rest(secrets.write, "DELETE", "/v1/jobs/team-new")).status).toBe(403);
  });

  test("operator: pause needs operator on pause; other areas stay closed", async () => {
    expect((await rest(secrets.pause, "POST", "/v1/pause")).status).toBe(200);
    expect((await rest(secrets.pause, "POST", "/v1/unpause")).status).toBe(200);
    expect((await rest(secrets.pause, "GET", "/v1/members")).status).toBe(403);
    expect((await rest(secrets.pause, "GET", "/metrics")).status).toBe(403);
    expect((await rest(secrets.write, "POST", "/v1/pause")).status).toBe(403);
  });
});

describe("capabilities over Connect (interceptor)", () => {
  test("each method needs its capability on the job it names", async () => {
    expect(await connectCode(connect(secrets.read).getJob({ name: "team-a" }))).toBe("ok");
    expect(await connectCode(connect(secrets.read).getJob({ name: "other-b" }))).toBe(
      Code.PermissionDenied,
    );
    const listed = await connect(secrets.list).listJobs({});
    expect(listed.jobs.every((j) => j.name.startsWith("team-"))).toBe(true);
    expect(listed.total).toBe(listed.jobs.length);
    expect(await connectCode(connect(secrets.read).listJobs({}))).toBe(Code.PermissionDenied);
    const up = await connect(secrets.write).upsertJob({
      job: {
        name: "team-c",
        schedule: "@daily",
        executor: "shell",
        executorConfig: { command: "true" },
      },
    });
    expect(up.job?.owner).toBe("t-write");
    expect(
      await connectCode(
        connect(secrets.write).upsertJob({
          job: {
            name: "other-c",
            schedule: "@daily",
            executor: "shell",
            executorConfig: { command: "true" },
          },
        }),
      ),
    ).toBe(Code.PermissionDenied);
    expect(await connectCode(connect(secrets.run).runJob({ name: "team-c" }))).toBe("ok");
    expect(await connectCode(connect(secrets.run).runJob({ name: "other-b" }))).toBe(
      Code.PermissionDenied,
    );
    expect(await connectCode(connect(secrets.delete).deleteJob({ name: "other-b" }))).toBe(
      Code.PermissionDenied,
    );
    expect(await connectCode(connect("not-a-token").getJob({ name: "team-a" }))).toBe(
      Code.Unauthenticated,
    );
  });

  test("gRPC-web goes through the same check", async () => {
    const grpcWeb = (secret?: string) => {
      const auth: Interceptor = (next) => (req) => {
        if (secret !== undefined) req.header.set("authorization", `Bearer ${secret}`);
        return next(req);
      };
      return createClient(
        JobService,
        createGrpcWebTransport({ baseUrl: node.url, interceptors: [auth] }),
      );
    };
    expect(await connectCode(grpcWeb().getJob({ name: "team-a" }))).toBe(Code.Unauthenticated);
    expect(await connectCode(grpcWeb(secrets.read).getJob({ name: "other-b" }))).toBe(
      Code.PermissionDenied,
    );
    expect(await connectCode(grpcWeb(secrets.read).getJob({ name: "team-a" }))).toBe("ok");
  });

  test("KillExecution needs kill on the job", async () => {
    const started = await rest(root, "POST", "/v1/jobs/team-sleep/run");
    const id = started.headers.get("x-execution-id") as string;
    const req = { jobName: "team-sleep", executionId: id };
    expect(await connectCode(connect(secrets.read).killExecution(req))).toBe(
      Code.PermissionDenied,
    );
    const killed = await until("the Connect kill to succeed", async () => {
      const r = await connect(secrets.kill).killExecution(req).catch(() => undefined);
      return r?.execution;
    }, 20_000);
    expect(killed.status).toBe("failed");
  }, 30_000);

  test("WatchExecution (a server stream) is checked on its request message", async () => {
    const stream = connect(secrets.list).watchExecution({ jobName: "team-a", executionId: "1" });
    const drain = async () => {
      for await (const _ of stream) { /* nothing expected */ }
    };
    expect(await connectCode(drain())).toBe(Code.PermissionDenied);
  });
});

describe("capabilities over the CLI", () => {
  test("--token and TOCK_TOKEN carry the token; errors name the status and the reason", async () => {
    const ls = await tock({}, "job", "ls", "--token", secrets.list);
    expect(ls.code).toBe(0);
    expect(ls.out).toContain("team-sleep");
    expect(ls.out).not.toContain("other-b");
    const env = await tock({ TOCK_TOKEN: secrets.run }, "job", "run", "team-sleep");
    expect(env).toMatchObject({ code: 0 });
    const none = await tock({ TOCK_TOKEN: "" }, "job", "ls");
    expect(none.code).toBe(1);
    expect(none.err).toContain("401 ACL token required");
    const denied = await tock({}, "job", "delete", "other-b", "--token", secrets.run);
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('403 permission denied: token "t-run"');
  });

  test("each capability allows its CLI command on team jobs and refuses it on others", async () => {
    const as = (who: Who, ...args: string[]) => tock({ TOCK_TOKEN: secrets[who] }, ...args);
    const ok = (r: { code: number; err: string }) => ({ code: r.code, err: r.err });
    expect(ok(await as("read", "job", "get", "team-a"))).toEqual({ code: 0, err: "" });
    expect((await as("read", "job", "get", "other-b")).err).toContain("403");
    expect(ok(await as("read", "exec", "ls", "team-a"))).toEqual({ code: 0, err: "" });
    const file = join(dir, "cli-job.yaml");
    writeFileSync(
      file,
      "name: team-cli\nschedule: '@daily'\nexecutor: shell\nexecutor_config:\n  command: 'true'\n",
    );
    expect(ok(await as("write", "job", "apply", "-f", file))).toEqual({ code: 0, err: "" });
    expect(ok(await as("write", "job", "toggle", "team-cli"))).toEqual({ code: 0, err: "" });
    writeFileSync(
      file,
      "name: other-cli\nschedule: '@daily'\nexecutor: shell\nexecutor_config:\n  command: 'true'\n",
    );
    expect((await as("write", "job", "apply", "-f", file)).err).toContain("403");
    expect(ok(await as("run", "job", "run", "team-cli"))).toEqual({ code: 0, err: "" });
    expect((await as("run", "job", "run", "other-b")).err).toContain("403");
    const started = await rest(root, "POST", "/v1/jobs/team-sleep/run");
    const id = started.headers.get("x-execution-id") as string;
    expect((await as("read", "exec", "kill", "team-sleep", id)).err).toContain("403");
    const killed = await until("the CLI kill to succeed", async () => {
      const r = await as("kill", "exec", "kill", "team-sleep", id);
      return r.code === 0 ? r : undefined;
    }, 20_000);
    expect(killed.out).toContain(`execution ${id} of job "team-sleep" killed`);
    expect((await as("delete", "job", "delete", "other-b")).err).toContain("403");
    expect(ok(await as("delete", "job", "delete", "team-cli"))).toEqual({ code: 0, err: "" });
    expect(ok(await as("audit", "audit", "--limit", "5"))).toEqual({ code: 0, err: "" });
    expect((await as("read", "audit")).err).toContain('403 permission denied: token "t-read"');
  }, 30_000);

  test("acl policy apply / token create / list / delete through the CLI", async () => {
    const rules = join(dir, "ops.yaml");
    writeFileSync(rules, 'description: nightly ops\njobs:\n  "nightly-*": [read, run]\n');
    const t = ["--token", root];
    expect(await tock({}, "acl", "policy", "apply", "--name", "ops", "-r", rules, ...t))
      .toMatchObject({ code: 0, out: 'policy "ops" applied\n' });
    expect((await tock({}, "acl", "policy", "list", ...t)).out).toContain("ops  nightly ops");
    const created = await tock({}, "acl", "token", "create", "--name", "night", "-p", "ops", ...t);
    expect(created.code).toBe(0);
    const accessor = /Accessor ID\s+= (\S+)/.exec(created.out)?.[1] as string;
    const secret = /Secret ID\s+= (\S+)/.exec(created.out)?.[1] as string;
    expect((await tock({}, "acl", "token", "self", "--token", secret)).out).toContain("night");
    expect((await tock({}, "acl", "token", "list", ...t)).out).toContain(accessor);
    expect((await tock({}, "acl", "token", "list", ...t)).out).not.toContain(secret);
    expect(await tock({}, "acl", "token", "delete", accessor, ...t)).toMatchObject({ code: 0 });
    expect((await tock({}, "acl", "token", "self", "--token", secret)).code).toBe(1);
    expect(await tock({}, "acl", "policy", "delete", "ops", ...t)).toMatchObject({ code: 0 });
  });
});

const deniedRun = (e: Record<string, unknown>) =>
  e["token_name"] === "t-run" && e["action"] === "POST /v1/jobs/:job/run" && e["status"] === 403;

describe("audit log", () => {
  test(
    "writes are in the audit log with who, what, job, where and result, paged by seq",
    async () => {
      const marker = `team-audit-${Date.now()}`;
      await rest(secrets.write, "POST", "/v1/jobs", job(marker));
      await rest(secrets.run, "POST", "/v1/jobs/other-b/run");
      expect((await rest(secrets.read, "GET", "/v1/audit")).status).toBe(403);
      const all = await until("the audit entries to be applied", async () => {
        const entries: Array<Record<string, unknown>> = [];
        let after = 0;
        for (;;) {
          const res = await rest(secrets.audit, "GET", `/v1/audit?after=${after}&limit=7`);
          const page = await res.json();
          entries.push(...page);
          if (page.length < 7) break;
          after = Number(res.headers.get("x-next-after"));
        }
        return entries.some((e) => e["job"] === marker) && entries.some(deniedRun)
          ? entries
          : undefined;
      });
      const seqs = all.map((e) => e["seq"] as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(all.find((e) => e["job"] === marker)).toMatchObject({
        token_name: "t-write",
        action: "POST /v1/jobs",
        remote: "127.0.0.1",
        status: 201,
        error: "",
      });
      expect(all.find(deniedRun)).toMatchObject({
        job: "other-b",
        error: expect.stringContaining('lacks capability "run" on job "other-b"'),
      });
      expect(all.some((e) => e["action"] === "tock.v1.JobService/UpsertJob")).toBe(true);
      expect((await rest(secrets.audit, "GET", "/v1/audit?limit=0")).status).toBe(400);
    },
    20_000,
  );
});

describe("snapshot install", () => {
  test("tokens are still checked after the node installs a snapshot of its state", async () => {
    const t = await (await rest(root, "POST", "/v1/acl/tokens", {
      name: "snap",
      policies: ["p-read"],
    })).json();
    // A follower installs the leader's snapshot the same way: state.db replaced and reopened.
    const snap = join(dir, "acl-snapshot.db");
    node.node.store.snapshotTo(snap);
    node.node.store.install(snap);
    expect((await rest(root, "GET", "/v1/acl/tokens")).status).toBe(200);
    expect((await rest(t.secret as string, "GET", "/v1/jobs/team-a")).status).toBe(200);
    expect((await rest(t.secret as string, "GET", "/v1/acl/tokens")).status).toBe(403);
    expect((await rest("not-a-token", "GET", "/v1/jobs/team-a")).status).toBe(401);
  });
});

describe("lost management token", () => {
  test("the reset file in the data dir allows one more bootstrap, then is spent", async () => {
    const refused = await rest(undefined, "POST", "/v1/acl/bootstrap");
    const message = (await refused.json()).error as string;
    const index = /reset index (\d+)/.exec(message)?.[1] as string;
    expect(message).toContain(`write ${index} to acl-bootstrap-reset in the data dir`);
    const file = join(dir, "data", "acl-bootstrap-reset");
    writeFileSync(file, "nonsense\n");
    expect((await rest(undefined, "POST", "/v1/acl/bootstrap")).status).toBe(400);
    writeFileSync(file, `${index}\n`);
    const again = await rest(undefined, "POST", "/v1/acl/bootstrap");
    expect(again.status).toBe(200);
    const fresh = (await again.json()).secret as string;
    expect((await rest(fresh, "GET", "/v1/acl/tokens")).status).toBe(200);
    expect((await rest(undefined, "POST", "/v1/acl/bootstrap")).status).toBe(409);
  });
});
