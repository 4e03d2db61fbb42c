/**
 * Cluster figures with 3 `tock agent --server` processes on 127.0.0.1 (this 2-core box is shared:
 * note the load average printed next to each figure).
 *  failover  kill -9 the leader → new leader known to the survivors, and → first fire by the new
 *            leader of a job @every 1s; p50/p99 over --trials (restarting the killed server
 *            between trials), for --profile (lan = default Raft ticks of 100 ms, fast = 50 ms).
 *  upsert    job upsert latency (POST /v1/jobs, sequential) through the leader and through a
 *            follower, p50/p99, next to fsync latency of a 4 KiB write measured in the same run.
 *  load      --jobs jobs @every 1s (noop executor) on the 3-server cluster: launches/s and lateness
 *            (slot → executor start) p50/p99, then the same on one server.
 *  rss       --big jobs created; RSS of each server; then the snapshot of that state.db: size,
 *            time to take (VACUUM INTO) and to install (copy + rename + reopen).
 * Usage: bun bench/cluster.ts [failover|upsert|load|rss ...] [--trials 50] [--profile lan,fast]
 *        [--upserts 300] [--jobs 1000] [--seconds 15] [--big 100000]
 */
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ProcCluster, type Server } from "../test/support/cluster.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { parseJobBody } from "../src/state/mod.ts";
import { SqliteStateStore } from "../src/store/mod.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    trials: { type: "string", default: "50" },
    profile: { type: "string", default: "lan,fast" },
    upserts: { type: "string", default: "300" },
    jobs: { type: "string", default: "1000" },
    seconds: { type: "string", default: "15" },
    big: { type: "string", default: "100000" },
  },
});
const modes = positionals.length > 0 ? positionals : ["failover", "upsert", "load", "rss"];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const load = () => `load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function post(s: Server, path: string, body: unknown): Promise<Response> {
  return await fetch(s.url + path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(20_000),
  });
}

async function restore(s: Server, jobs: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < jobs.length; i += 5_000) {
    const form = new FormData();
    form.set("file", new Blob([JSON.stringify(jobs.slice(i, i + 5_000))]));
    const r = await fetch(`${s.url}/v1/restore`, { method: "POST", body: form });
    if (r.status !== 200) throw new Error(`restore: ${r.status} ${await r.text()}`);
  }
}

/** POST /v1/jobs with `conc` requests in flight: concurrent writes share Raft batches. */
async function createConcurrent(
  s: Server,
  jobs: Array<Record<string, unknown>>,
  conc: number,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      const r = await post(s, "/v1/jobs", j);
      if (r.status !== 201) throw new Error(`create: ${r.status} ${await r.text()}`);
    }
  }));
}

async function cluster(n: number, profile: string): Promise<{ c: ProcCluster; root: string }> {
  const root = mkdtempSync(join(tmpdir(), "tock-bench-cluster-"));
  const c = new ProcCluster(root, { profile });
  for (let i = 1; i <= n; i++) await c.start(`s${i}`, ["--bootstrap-expect", String(n)]);
  await c.waitLeader(60_000);
  return { c, root };
}

async function done(x: { c: ProcCluster; root: string }): Promise<void> {
  await x.c.stopAll();
  rmSync(x.root, { recursive: true, force: true });
}

async function failover(profile: string, trials: number): Promise<void> {
  const x = await cluster(3, profile);
  const { c } = x;
  try {
    let leader = await c.waitLeader();
    const r = await post(leader, "/v1/jobs", {
      name: "tick",
      schedule: "@every 1s",
      executor: "noop",
      executor_config: {},
    });
    if (r.status !== 201) throw new Error(`create: ${r.status}`);
    const toLeader: number[] = [];
    const toFire: number[] = [];
    for (let t = 0; t < trials; t++) {
      const survivors = c.alive().filter((s) => s !== leader);
      const killedAt = Date.now();
      await c.kill(leader.name);
      // New leader: first moment a survivor reports itself leader of a later term.
      let next: Server | undefined;
      while (next === undefined) {
        for (const s of survivors) {
          const st = await c.status(s).catch(() => undefined);
          if (st?.role === "leader") next = s;
        }
        if (Date.now() - killedAt > 30_000) throw new Error("no new leader in 30 s");
        if (next === undefined) await sleep(10);
      }
      toLeader.push(Date.now() - killedAt);
      // First fire by the new leader: an execution it started after the kill.
      for (;;) {
        const list = await (await fetch(`${next.url}/v1/jobs/tick/executions?output_size_limit=0`))
          .json() as Array<{ node_name: string; started_at: string }>;
        const first = list
          .filter((e) => e.node_name === next!.name && Date.parse(e.started_at) > killedAt)
          .map((e) => Date.parse(e.started_at))
          .sort((a, b) => a - b)[0];
        if (first !== undefined) {
          toFire.push(first - killedAt);
          break;
        }
        if (Date.now() - killedAt > 30_000) throw new Error("no fire by the new leader in 30 s");
        await sleep(10);
      }
      await c.start(leader.name);
      leader = await c.waitLeader(30_000);
    }
    console.log(
      `failover (${profile}, ${trials} trials): kill -9 → new leader p50 ${
        pct(toLeader, 50)
      } ms p99 ${pct(toLeader, 99)} ms max ${Math.max(...toLeader)} ms; → first fire by it p50 ${
        pct(toFire, 50)
      } ms p99 ${
        pct(toFire, 99)
      } ms (job @every 1s: up to 1 s is waiting for the next slot) [${load()}]`,
    );
  } finally {
    await done(x);
  }
}

function fsyncLatency(dir: string, n: number): number[] {
  const path = join(dir, "fsync-probe");
  const fd = openSync(path, "w");
  const buf = new Uint8Array(4096);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeFileSync(fd, buf);
      fsyncSync(fd);
      out.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

async function upserts(n: number): Promise<void> {
  const x = await cluster(3, "lan");
  try {
    const leader = await x.c.waitLeader();
    const follower = x.c.alive().find((s) => s !== leader) as Server;
    const measure = async (s: Server, tag: string) => {
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const r = await post(s, "/v1/jobs", {
          name: `${tag}-${i}`,
          schedule: "@every 1h",
          executor: "noop",
          executor_config: {},
        });
        if (r.status !== 201) throw new Error(`upsert: ${r.status} ${await r.text()}`);
        lat.push(performance.now() - t);
      }
      return lat;
    };
    const viaLeader = await measure(leader, "l");
    const viaFollower = await measure(follower, "f");
    const fs = fsyncLatency(x.root, n);
    const f = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms p99 ${pct(xs, 99).toFixed(1)} ms`;
    console.log(
      `upsert (${n} sequential): via leader ${f(viaLeader)}; via follower ${
        f(viaFollower)
      }; fsync 4 KiB ${f(fs)} [${load()}]`,
    );
  } finally {
    await done(x);
  }
}

async function busy(n: number, seconds: number, size: number): Promise<void> {
  const x = await cluster(size, "lan");
  try {
    const leader = await x.c.waitLeader();
    await restore(
      leader,
      Array.from({ length: n }, (_, i) => ({
        name: `busy-${i}`,
        schedule: "@every 1s",
        executor: "noop",
        executor_config: {},
      })),
    );
    await sleep(3_000);
    const metric = async (name: string) => {
      const text = await (await fetch(`${leader.url}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
    };
    const l0 = await metric("tock_launches_total");
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const tEnd = Date.now();
    const launches = (await metric("tock_launches_total")) - l0;
    const rss = x.c.alive().map((s) => rssMiB(s.proc.proc.pid as number).toFixed(0)).join("/");
    const lateness: number[] = [];
    let missed = 0;
    for (let i = 0; i < n; i++) {
      const list =
        await (await fetch(`${leader.url}/v1/jobs/busy-${i}/executions?output_size_limit=0`))
          .json() as Array<{ started_at: string; group: number; status: string }>;
      for (const e of list) {
        const slot = e.group / 1e6;
        if (slot < t0 || slot >= tEnd) continue;
        if (e.status === "missed") missed++;
        else if (e.started_at) lateness.push(Date.parse(e.started_at) - slot);
      }
    }
    console.log(
      `${n} jobs @every 1s noop on ${size} server(s): launches ${
        (launches / ((tEnd - t0) / 1000)).toFixed(0)
      }/s, lateness p50 ${pct(lateness, 50)} ms p99 ${
        pct(lateness, 99)
      } ms, missed ${missed}, RSS ${rss} MiB [${load()}]`,
    );
  } finally {
    await done(x);
  }
}

async function rss(big: number): Promise<void> {
  const x = await cluster(3, "lan");
  try {
    const leader = await x.c.waitLeader();
    const t = performance.now();
    await createConcurrent(
      leader,
      Array.from({ length: big }, (_, i) => ({
        name: `idle-${i}`,
        schedule: `0 ${i % 60} ${i % 24} 1 1 *`,
        executor: "noop",
        executor_config: {},
      })),
      256,
    );
    const createS = (performance.now() - t) / 1000;
    // Followers apply the same entries: wait until they hold them all.
    for (const s of x.c.alive()) {
      for (;;) {
        const st = await x.c.status(s);
        const lst = await x.c.status(leader);
        if (st.applied >= lst.commit) break;
        await sleep(200);
      }
    }
    await sleep(2_000);
    const rss = x.c.alive().map((s) => `${s.name} ${rssMiB(s.proc.proc.pid as number).toFixed(0)}`);
    console.log(
      `${big} jobs on 3 servers: RSS ${rss.join(", ")} MiB (created in ${
        createS.toFixed(1)
      } s) [${load()}]`,
    );
  } finally {
    await done(x);
  }
  // The snapshot path itself, in-process on the same code: VACUUM INTO, then install.
  const rt = await loadRuntime();
  const dir = mkdtempSync(join(tmpdir(), "tock-bench-snap-"));
  try {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore(rt.openDb(path), { path, open: (p) => rt.openDb(p) });
    for (let i = 0; i < big; i += 5_000) {
      const cmds = Array.from({ length: Math.min(5_000, big - i) }, (_, k) => ({
        type: "job.upsert" as const,
        job: parseJobBody({
          name: `idle-${i + k}`,
          schedule: `0 ${(i + k) % 60} ${(i + k) % 24} 1 1 *`,
          executor: "noop",
          executor_config: {},
        }),
      }));
      store.applyBatch(store.appliedIndex + 1, cmds);
    }
    const snap = join(dir, "snap.db");
    let t0 = performance.now();
    store.snapshotTo(snap);
    const takeMs = performance.now() - t0;
    const bytes = statSync(snap).size;
    const path2 = join(dir, "follower.db");
    const follower = new SqliteStateStore(rt.openDb(path2), {
      path: path2,
      open: (p) => rt.openDb(p),
    });
    t0 = performance.now();
    follower.install(snap);
    const installMs = performance.now() - t0;
    console.log(
      `snapshot of ${big} jobs: ${(bytes / 2 ** 20).toFixed(1)} MiB, take (VACUUM INTO) ${
        takeMs.toFixed(0)
      } ms, install (copy + fsync + rename + reopen + cache reload) ${
        installMs.toFixed(0)
      } ms [${load()}]`,
    );
    store.close();
    follower.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const m of modes) {
  if (m === "failover") {
    for (const p of values.profile.split(",")) await failover(p, Number(values.trials));
  } else if (m === "upsert") await upserts(Number(values.upserts));
  else if (m === "load") {
    await busy(Number(values.jobs), Number(values.seconds), 3);
    await busy(Number(values.jobs), Number(values.seconds), 1);
  } else if (m === "rss") await rss(Number(values.big));
  else throw new Error(`unknown mode ${m}`);
}
