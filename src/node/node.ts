/**
 * One Tock node on one process: state store + the propose() door + scheduler + runner + HTTP.
 * Single-node for now (LocalLog); Raft replaces LocalLog behind the same Proposer port.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ApiDeps, createApp, type Member } from "../api/mod.ts";
import { type Clock, errorMessage, invalid, notFound } from "../lib/mod.ts";
import type { Runtime, ServeTls } from "../runtime/mod.ts";
import { nextRunOf, nextRunsOf, Scheduler } from "../scheduler/mod.ts";
import { lostExecution } from "../state/mod.ts";
import { loadPlugins } from "../executor/mod.ts";
import { emptyNotifyConfig, type NotifyConfig } from "../processor/mod.ts";
import { AfterRun } from "./after_run.ts";
import { SqliteStateStore } from "../store/mod.ts";
import { lockDataDir } from "./data_dir.ts";
import { LocalLog } from "./local_log.ts";
import { Metrics } from "./metrics.ts";
import { OutputHub } from "./output_hub.ts";
import { type ExecutorPort, liveKey, type OutputPort, Runner } from "./runner.ts";

export interface NodeConfig {
  nodeName: string;
  dataDir: string;
  httpHost: string;
  /** 0 picks a free port. */
  httpPort: number;
  server: boolean;
  bootstrapExpect: number;
  tags: Record<string, string>;
  version: string;
  /** Serve the embedded web UI under /ui/. */
  ui: boolean;
  /** Cluster-wide notifications (webhook-*, mail-*, pre-webhook-* keys); none when absent. */
  notify?: NotifyConfig;
  /** Directory of executor plugins (tock-executor-<name> files); "" or absent: none. */
  pluginDir?: string;
  /** ACLs on: every API request but health/UI assets/bootstrap needs a token. */
  aclEnabled?: boolean;
  /** Serve the API over HTTPS (mutual TLS with requireClientCert). */
  tls?: ServeTls;
  /** Audit retention: entries kept and their age limit (defaults: the bounds in limits.ts). */
  audit?: { maxEntries: number; maxAgeMs: number };
}

export interface NodeIo {
  runtime: Runtime;
  executors: ReadonlyMap<string, ExecutorPort>;
  /** Opens the node-local output store in the data dir. */
  openOutput(dataDir: string): OutputPort & { close(): void; killOrphans(): number };
  /** Defaults to the system clock; tests pass a FakeClock. */
  clock?: Clock;
}

export interface RunningNode {
  readonly url: string;
  readonly port: number;
  /** Stops taking requests, waits for running executions (then kills them), closes stores. */
  stop(graceMs?: number): Promise<void>;
  /** New certificates for new connections (SIGHUP); open connections keep theirs. */
  reloadTls(tls: ServeTls): Promise<void>;
}

/** The system clock: setTimeout under the hood, one timer per call. */
export function systemClock(nowMs: () => number): Clock {
  let next = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  return {
    nowMs,
    setTimer(atMs, fn) {
      const id = next++;
      // setTimeout's delay is a 32-bit int: far timers re-arm at the cap.
      const delay = Math.min(Math.max(0, atMs - nowMs()), 2 ** 31 - 1);
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, delay),
      );
      return { id };
    },
    clearTimer(h) {
      clearTimeout(timers.get(h.id));
      timers.delete(h.id);
    },
  };
}

export async function startNode(config: NodeConfig, io: NodeIo): Promise<RunningNode> {
  const rt = io.runtime;
  if (!config.server) {
    throw invalid(
      "this version runs servers only: start the agent with --server (or --dev for a one-node server on 127.0.0.1:8080)",
    );
  }
  const clock = io.clock ?? systemClock(rt.nowMs);
  mkdirSync(config.dataDir, { recursive: true });
  const dirLock = lockDataDir(rt, config.dataDir);
  const executors = new Map(io.executors);
  if (config.pluginDir) {
    const found = loadPlugins(config.pluginDir, new Set(executors.keys()), config.version);
    for (const p of found.problems) console.error(`tock: ${p}`);
    for (const [name, ex] of found.executors) executors.set(name, ex);
  }
  const store = new SqliteStateStore(rt.openDb(join(config.dataDir, "state.db")));
  const output = io.openOutput(config.dataDir);
  const log = new LocalLog(store);
  const hub = new OutputHub();
  const metrics = new Metrics();
  const propose: LocalLog["propose"] = (cmd) => log.propose(cmd);
  const afterRun = new AfterRun({
    nodeName: config.nodeName,
    clock,
    output,
    notify: config.notify ?? emptyNotifyConfig,
    executors,
  });
  const runner = new Runner({
    nodeName: config.nodeName,
    clock,
    proposer: log,
    executors,
    output,
    hub,
    exists: (job, id) => store.getExecution(job, id) !== undefined,
    onStarted: (job, e) => {
      metrics.started();
      afterRun.started(job, e);
    },
    postRun: (job, e) => afterRun.process(job, e),
    onFinished: (job, e) => {
      metrics.finished(job.name, e);
      afterRun.notify(job, e);
      sched.onFinished(job, e); // set below, before anything runs
    },
  });

  // Executions left running by a previous process of this node cannot be running now: their
  // process groups (detached, so they outlived a SIGKILLed agent) are killed, the runs are lost.
  const orphans = output.killOrphans();
  if (orphans > 0) console.error(`tock: killed ${orphans} process group(s) left by a previous run`);
  for (const e of store.runningExecutions()) {
    if (e.node_name !== config.nodeName) continue;
    await log.propose({
      type: "execution.finish",
      execution: lostExecution(e, clock.nowMs(), "lost: the node restarted while it ran"),
    }).then(
      () => metrics.lost(e.job_name),
      (err) =>
        console.error(`tock: marking ${e.job_name}/${e.id} lost failed: ${errorMessage(err)}`),
    );
  }

  const sched: Scheduler = new Scheduler({
    clock,
    propose,
    getJob: (name) => store.peekJob(name),
    allJobs: () => store.jobsView(),
    running: (job) => store.runningExecutions(job),
    runner,
    metrics,
  });
  store.onApplied((cmd, result) => {
    if (!result.ok) return;
    if (cmd.type === "job.upsert") sched.jobChanged(cmd.job.name);
    else if (cmd.type === "job.toggle") sched.jobChanged(cmd.name);
    else if (cmd.type === "job.delete") {
      sched.jobChanged(cmd.name);
      afterRun.forget(cmd.name);
      // Its runs stop first (their output and process ledger rows are written to the end), then
      // the output goes; output of a same-name job created meanwhile is live and is kept.
      void runner.killJob(cmd.name).then(() => output.deleteJob(cmd.name));
    }
  });
  await sched.start();

  const pruneTimer = setInterval(() => output.prune(clock.nowMs()), 60_000);
  const listening: { port?: number } = {};
  const self = (): Member => ({
    Name: config.nodeName,
    Addr: config.httpHost,
    Port: listening.port ?? config.httpPort,
    Tags: { ...config.tags, server: String(config.server), role: "tock", version: config.version },
    Status: 1,
  });

  async function* watchOutput(
    job: string,
    id: string,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    if (hub.isLive(liveKey(job, id))) {
      yield* hub.watch(liveKey(job, id), signal);
      return;
    }
    const stored = output.read(job, id) ?? store.getExecution(job, id)?.output_tail;
    if (stored) yield new TextEncoder().encode(stored);
  }

  const deps: ApiDeps = {
    nodeName: config.nodeName,
    version: config.version,
    tags: config.tags,
    nowMs: () => clock.nowMs(),
    propose,
    getJob: (name) => store.peekJob(name),
    allJobs: () => store.jobsView(),
    jobsByName: () => store.jobsByName(),
    executionsOf: (job) => store.executionsOf(job),
    runningExecutions: () => store.runningExecutions(),
    executionOutput: (job, id) => output.read(job, id),
    watchOutput,
    checkExecutor: (name, cfg, processors) => afterRun.check(name, cfg, processors),
    nextRun: nextRunOf,
    nextRuns: nextRunsOf,
    runJob: (name, force = false) => sched.runNow(name, force),
    killExecution: (job, id) => {
      const e = store.getExecution(job, id);
      if (!e) throw notFound(`execution "${id}" of job "${job}" not found`);
      if (e.status !== "running" || !runner.kill(job, id, "killed through the API")) {
        throw invalid(`execution "${id}" of job "${job}" is ${e.status}, not running on this node`);
      }
      return runner.finished(job, id);
    },
    members: () => [self()],
    leader: () => self(),
    isLeader: () => true,
    // One node: it is the whole cluster and its leader (the Raft/gossip wiring replaces this).
    cluster: () => ({
      leader: config.nodeName,
      term: 0,
      commitIndex: store.appliedIndex,
      appliedIndex: store.appliedIndex,
      members: [{
        name: config.nodeName,
        addr: `${self().Addr}:${self().Port}`,
        role: config.server ? "server" : "agent",
        raftState: "leader",
        gossipState: "alive",
        tags: self().Tags,
      }],
    }),
    activity: (sinceMs, recentSinceMs) => store.activitySince(sinceMs, recentSinceMs),
    onStateChange: (listener) => store.onApplied(() => listener()),
    metricsText: () =>
      metrics.text({ jobs: store.jobCount, running: runner.runningCount, queue: sched.queueSize }),
  };

  const app = createApp(deps, {
    ui: config.ui,
    acl: {
      enabled: config.aclEnabled ?? false,
      store: store.acl,
      bootstrapResetFile: join(config.dataDir, "acl-bootstrap-reset"),
      ...(config.audit === undefined
        ? {}
        : { auditKeep: config.audit.maxEntries, auditMaxAgeMs: config.audit.maxAgeMs }),
    },
  });
  const server = rt.serve({
    hostname: config.httpHost,
    port: config.httpPort,
    fetch: app.fetch,
    ...(config.tls === undefined ? {} : { tls: config.tls }),
  });
  listening.port = server.port;
  const host = config.httpHost.includes(":") ? `[${config.httpHost}]` : config.httpHost;
  let stopped = false;
  return {
    url: `${config.tls === undefined ? "http" : "https"}://${host}:${server.port}`,
    port: server.port,
    reloadTls: (tls) => server.reloadTls(tls),
    async stop(graceMs = 30_000) {
      if (stopped) return;
      stopped = true;
      sched.stop();
      afterRun.stop();
      clearInterval(pruneTimer);
      await server.stop(false).catch(() => {});
      await runner.drain(graceMs);
      log.close();
      output.close();
      store.close();
      dirLock.release();
    },
  };
}
