/**
 * One Tock node on one process: state store + the propose() door + runner + HTTP API.
 * Single-node for now (LocalLog); Raft replaces LocalLog behind the same Proposer port.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ApiDeps, createApp, type Member } from "../api/mod.ts";
import { errorMessage, invalid } from "../lib/mod.ts";
import type { Runtime, Server } from "../runtime/mod.ts";
import { nextSlot, nextSlots, parseSchedule } from "../schedule/mod.ts";
import { type Job, timezoneExists } from "../state/mod.ts";
import { SqliteStateStore } from "../store/mod.ts";
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
}

export interface NodeIo {
  runtime: Runtime;
  executors: ReadonlyMap<string, ExecutorPort>;
  /** Opens the node-local output store in the data dir. */
  openOutput(dataDir: string): OutputPort & { close(): void };
}

export interface RunningNode {
  readonly url: string;
  readonly port: number;
  /** Stops taking requests, waits for running executions (then aborts them), closes stores. */
  stop(graceMs?: number): Promise<void>;
}

/** The next slot of a job after `afterMs`, honouring parent, disabled, starts_at and expires_at. */
export function nextRunOf(job: Job, afterMs: number): number | null {
  return nextRunsOf(job, afterMs, 1)[0] ?? null;
}

export function nextRunsOf(job: Job, afterMs: number, n: number): number[] {
  if (job.parent_job !== "" || job.schedule === "") return [];
  const schedule = parseSchedule(job.schedule, {
    jobName: job.name,
    timezone: timezoneExists(job.timezone) ? job.timezone : "",
  });
  const from = job.starts_at !== null && job.starts_at > afterMs ? job.starts_at - 1 : afterMs;
  const slots = n === 1
    ? [nextSlot(schedule, from)].filter((s): s is number => s !== undefined)
    : nextSlots(schedule, from, n);
  return job.expires_at === null ? slots : slots.filter((s) => s <= (job.expires_at as number));
}

export async function startNode(config: NodeConfig, io: NodeIo): Promise<RunningNode> {
  const rt = io.runtime;
  if (!config.server) {
    throw invalid(
      "worker (non-server) agents need the cluster issue; start with --server or --dev",
    );
  }
  mkdirSync(config.dataDir, { recursive: true });
  const store = new SqliteStateStore(rt.openDb(join(config.dataDir, "state.db")));
  const output = io.openOutput(config.dataDir);
  const log = new LocalLog(store);
  const hub = new OutputHub();
  const metrics = new Metrics();
  const runner = new Runner({
    nodeName: config.nodeName,
    nowMs: rt.nowMs,
    proposer: log,
    executors: io.executors,
    output,
    hub,
    exists: (job, id) => store.getExecution(job, id) !== undefined,
    onFinished: (e) => metrics.finished(e),
  });

  // Executions left "running" by a previous process cannot be running now: mark them lost.
  for (const e of store.runningExecutions()) {
    await log.propose({
      type: "execution.finish",
      execution: {
        ...e,
        status: "lost",
        success: false,
        finished_at: rt.nowMs(),
        reason: "the node restarted while it ran",
      },
    }).catch((err) =>
      console.error(`tock: marking ${e.job_name}/${e.id} lost failed: ${errorMessage(err)}`)
    );
  }

  const listening: { server?: Server } = {};
  const self = (): Member => ({
    Name: config.nodeName,
    Addr: config.httpHost,
    Port: listening.server?.port ?? config.httpPort,
    Tags: { ...config.tags, server: String(config.server), role: "tock", version: config.version },
    Status: 1,
  });
  const deps: ApiDeps = {
    nodeName: config.nodeName,
    version: config.version,
    tags: config.tags,
    nowMs: rt.nowMs,
    propose: (cmd) => log.propose(cmd),
    getJob: (name) => store.peekJob(name),
    allJobs: () => store.jobsView(),
    executionsOf: (job) => store.executionsOf(job),
    runningExecutions: () => store.runningExecutions(),
    executionOutput: (job, id) => output.read(job, id),
    watchOutput: (job, id, signal) => watchOutput(job, id, signal),
    checkExecutor: (name, cfg) => {
      const ex = io.executors.get(name);
      if (!ex) {
        return `unknown executor "${name}"; available: ${
          [...io.executors.keys()].sort().join(", ")
        }`;
      }
      return ex.validate(cfg);
    },
    nextRun: nextRunOf,
    nextRuns: nextRunsOf,
    runJob: async (name) => {
      const job = store.peekJob(name);
      if (!job) throw invalid(`job "${name}" not found`);
      const e = await runner.start(job, rt.nowMs());
      metrics.started();
      return e;
    },
    members: () => [self()],
    leader: () => self(),
    isLeader: () => true,
    metricsText: () => metrics.text({ jobs: store.jobCount, running: runner.runningCount }),
  };

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

  const app = createApp(deps, { ui: config.ui });
  const server = rt.serve({ hostname: config.httpHost, port: config.httpPort, fetch: app.fetch });
  listening.server = server;
  const url = `http://${
    config.httpHost.includes(":") ? `[${config.httpHost}]` : config.httpHost
  }:${server.port}`;
  let stopped = false;
  return {
    url,
    port: server.port,
    async stop(graceMs = 30_000) {
      if (stopped) return;
      stopped = true;
      await server.stop(false).catch(() => {});
      await runner.drain(graceMs);
      log.close();
      output.close();
      store.close();
    },
  };
}
