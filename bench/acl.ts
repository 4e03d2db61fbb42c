/**
 * Cost of the ACL layer in-process (no network): GET /v1/jobs/:job and POST /v1/jobs/:job/toggle
 * through createApp over a real SQLite state store, with ACLs off, with a management token and
 * with a client token holding 10 policies of 20 glob rules each. Prints p50/p99 and rate.
 * Usage: bun bench/acl.ts [--n 5000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ApiDeps, createApp, hashSecret } from "../src/api/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { nextRunOf, nextRunsOf } from "../src/scheduler/mod.ts";
import { parseJobBody } from "../src/state/mod.ts";
import { SqliteStateStore } from "../src/store/mod.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "5000" } } });
const n = Number(values.n);
const dir = mkdtempSync(join(tmpdir(), "tock-bench-acl-"));
const rt = await loadRuntime();
const store = new SqliteStateStore(rt.openDb(join(dir, "state.db")));
let index = 0;
const propose: ApiDeps["propose"] = (cmd) => {
  const r = store.applyAt(++index, cmd);
  return r.ok ? Promise.resolve(r) : Promise.reject(r.error);
};
await propose({
  type: "job.upsert",
  job: parseJobBody({
    name: "team-a",
    schedule: "@daily",
    executor: "shell",
    executor_config: { command: "true" },
  }),
});
const mgmt = "bench-management-secret-000000000000000000000";
const client = "bench-client-secret-0000000000000000000000000";
await propose({
  type: "acl.token.create",
  token: {
    accessor: "m",
    name: "m",
    type: "management",
    policies: [],
    secret_hash: hashSecret(mgmt),
    created_at: 0,
  },
});
const policies: string[] = [];
for (let p = 0; p < 10; p++) {
  const jobs: Record<string, string[]> = {};
  for (let r = 0; r < 20; r++) jobs[`svc${p}-${r}-*`] = ["read", "write"];
  if (p === 9) jobs["team-*"] = ["read", "write"];
  await propose({
    type: "acl.policy.upsert",
    policy: {
      name: `p${p}`,
      description: "",
      jobs: Object.entries(jobs).map(([glob, capabilities]) => ({
        glob,
        capabilities: capabilities as ("read" | "write")[],
      })),
      operator: [],
    },
  });
  policies.push(`p${p}`);
}
await propose({
  type: "acl.token.create",
  token: {
    accessor: "c",
    name: "c",
    type: "client",
    policies,
    secret_hash: hashSecret(client),
    created_at: 0,
  },
});

const deps: ApiDeps = {
  nodeName: "bench",
  version: "bench",
  tags: {},
  nowMs: () => Date.now(),
  propose,
  getJob: (name) => store.peekJob(name),
  allJobs: () => store.jobsView(),
  jobsByName: () => store.jobsByName(),
  executionsOf: (job) => store.executionsOf(job),
  runningExecutions: () => [],
  executionOutput: () => undefined,
  watchOutput: async function* () {},
  checkExecutor: () => undefined,
  nextRun: nextRunOf,
  nextRuns: nextRunsOf,
  runJob: () => Promise.reject(new Error("not in this bench")),
  killExecution: () => Promise.reject(new Error("not in this bench")),
  members: () => [],
  leader: () => undefined,
  isLeader: () => true,
  cluster: () => ({ leader: "bench", term: 0, commitIndex: 0, appliedIndex: 0, members: [] }),
  activity: () => ({ byStatus: {}, recent: 0, latenessP50Ms: null, latenessP99Ms: null }),
  onStateChange: () => {},
  metricsText: () => "",
};

const quiet = { log: () => {} };
const cases = [
  {
    label: "ACLs off",
    app: createApp(deps, { ui: false, acl: { enabled: false, store: store.acl, ...quiet } }),
    secret: undefined,
  },
  {
    label: "management token",
    app: createApp(deps, { ui: false, acl: { enabled: true, store: store.acl, ...quiet } }),
    secret: mgmt,
  },
  {
    label: "client token, 201 rules",
    app: createApp(deps, { ui: false, acl: { enabled: true, store: store.acl, ...quiet } }),
    secret: client,
  },
];

async function measure(label: string, fn: () => Promise<Response> | Response) {
  for (let i = 0; i < 200; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fn();
    if (res.status >= 400) throw new Error(`${label}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  const q = (p: number) => (times[Math.floor(p * (times.length - 1))] as number).toFixed(3);
  console.log(
    `${label.padEnd(44)} p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  ${
      (n / total * 1000).toFixed(0)
    } req/s`,
  );
}

for (const c of cases) {
  const headers: Record<string, string> = c.secret === undefined
    ? {}
    : { authorization: `Bearer ${c.secret}` };
  await measure(`GET job, ${c.label}`, () => c.app.request("/v1/jobs/team-a", { headers }));
}
for (const c of cases) {
  const headers: Record<string, string> = c.secret === undefined
    ? {}
    : { authorization: `Bearer ${c.secret}` };
  await measure(
    `POST toggle (write + audit), ${c.label}`,
    () => c.app.request("/v1/jobs/team-a/toggle", { method: "POST", headers }),
  );
}
store.close();
rmSync(dir, { recursive: true, force: true });
