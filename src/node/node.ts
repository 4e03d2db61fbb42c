/**
 * One Tock server on one process: state.db behind a Raft group (a lone server is a one-member
 * group: one write path, always exercised), the propose() door with forwarding, the RPC port,
 * the per-term scheduler and the runner. The HTTP surface is built from `api` by the
 * composition root in cli/ (node/ does not know api/).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { HttpTransport, RaftShell, SnapshotDir } from "../consensus/mod.ts";
import type { DkronMember } from "../membership/mod.ts";
import {
  type Clock,
  errorMessage,
  invalid,
  limits,
  notFound,
  systemClock,
  TockError,
} from "../lib/mod.ts";
import type { ClusterConfig } from "../raft/mod.ts";
import type { Runtime, Server } from "../runtime/mod.ts";
import { nextRunOf, nextRunsOf, Scheduler } from "../scheduler/mod.ts";
import { type Execution, type ExecutorCheck, lostExecution } from "../state/mod.ts";
import { RaftLogStore, type SqlDb, SqliteStateStore } from "../store/mod.ts";
import { loadPlugins } from "../executor/mod.ts";
import { emptyNotifyConfig, type NotifyConfig } from "../processor/mod.ts";
import { AddressBook } from "./address_book.ts";
import { AfterRun } from "./after_run.ts";
import { lockDataDir } from "./data_dir.ts";
import { currentOf, Door } from "./door.ts";
import { Leadership } from "./leadership.ts";
import { Metrics } from "./metrics.ts";
import { OutputHub } from "./output_hub.ts";
import { ReplicatedState } from "./replicated_state.ts";
import { loadOrCreateNodeId, Membership, readPeersJson, removePeersJson } from "./membership.ts";
import { AppliedWaiters, raftAttachment, RaftControl } from "./raft_ops.ts";
import { forwarder, leaderOps, type LocalOps, rpcFetchHandler } from "./rpc.ts";
import { type ExecutorPort, liveKey, type OutputPort, Runner } from "./runner.ts";

export interface NodeConfig {
  nodeName: string;
  dataDir: string;
  server: boolean;
  /** 1: bootstrap alone at once; N > 1: when N servers are seen (membership); 0: wait to join. */
  bootstrapExpect: number;
  tags: Record<string, string>;
  version: string;
  /** Host the RPC port binds (the gossip bind host). */
  rpcHost: string;
  /** Inter-node RPC port; 0 picks a free one. */
  rpcPort: number;
  /** Host peers dial; "" means rpcHost (127.0.0.1 for 0.0.0.0). */
  advertiseHost: string;
  /** RPC port peers dial; 0 means the bound port. */
  advertiseRpcPort: number;
  /** Scales Raft's timeouts (Dkron's raft-multiplier, 1–10). */
  raftMultiplier: number;
  /** Timing profile for gossip and Raft: "local"/"fast" are for one box, "wan" is slower. */
  profile: "lan" | "wan" | "local" | "fast";
  /** Gossip port on rpcHost (UDP+TCP); 0 picks a free one. */
  bindPort: number;
  advertisePort: number;
  region: string;
  datacenter: string;
  join: string[];
  retryJoin: string[];
  retryIntervalMs: number;
  retryMax: number;
  /** Base64 gossip key, "" for none. */
  encrypt: string;
  failedServerGraceMs: number;
  /** Cluster-wide notifications (webhook-*, mail-*, pre-webhook-* keys); none when absent. */
  notify?: NotifyConfig;
  /** Directory of executor plugins (tock-executor-<name> files); "" or absent: none. */
  pluginDir?: string;
  /** Entries applied between snapshots (default limits.snapshotThresholdEntries). */
  snapshotThreshold?: number;
  /** Minimum ms between snapshots (default limits.snapshotIntervalMs). */
  snapshotIntervalMs?: number;
  /** Entries kept behind a snapshot (default limits.raftTrailingEntries). */
  trailingEntries?: number;
}

export interface NodeIo {
  runtime: Runtime;
  executors: ReadonlyMap<string, ExecutorPort>;
  /** Opens the node-local output store in the data dir. */
  openOutput(dataDir: string): OutputPort & { close(): void; killOrphans(): number };
  /** Defaults to the system clock; tests pass a FakeClock. */
  clock?: Clock;
}

/** Raft timing per profile: ms per tick; election timeout is 10–20 ticks, heartbeat 1 tick. */
function tickMsOf(profile: string, multiplier: number): number {
  const base = profile === "local" || profile === "fast" ? 50 : profile === "wan" ? 200 : 100;
  return base * Math.max(1, Math.min(10, multiplier));
}

export type RunningNode = Awaited<ReturnType<typeof startNode>>;

export async function startNode(config: NodeConfig, io: NodeIo) {
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
  const nodeId = loadOrCreateNodeId(config.dataDir);
  const statePath = join(config.dataDir, "state.db");
  const store = new SqliteStateStore(rt.openDb(statePath), {
    path: statePath,
    open: (p) => rt.openDb(p),
  });
  const output = io.openOutput(config.dataDir);
  const hub = new OutputHub();
  const metrics = new Metrics();
  const snapshots = new SnapshotDir(join(config.dataDir, "snapshots"));
  const raftDb = rt.openDb(join(config.dataDir, "raft.db"));
  const logStore = RaftLogStore.open(raftDb as unknown as SqlDb);
  const addresses = new AddressBook(join(config.dataDir, "raft-addresses.json"));

  // The RPC port first: its address goes into the Raft address book and the gossip tags.
  // Built below; the RPC handler and callbacks may run before (they see undefined).
  const late: { shell?: RaftShell; door?: Door; leadership?: Leadership; ops?: LocalOps } = {};
  const rpc: Server = rt.serve({
    hostname: config.rpcHost,
    port: config.rpcPort,
    fetch: rpcFetchHandler(() => late.shell, () => late.door, snapshots, () => late.ops),
  });
  const membership = await Membership.start({
    nodeName: config.nodeName,
    nodeId,
    server: config.server,
    bootstrapExpect: config.bootstrapExpect,
    region: config.region,
    datacenter: config.datacenter,
    version: config.version,
    tags: config.tags,
    bindHost: config.rpcHost,
    bindPort: config.bindPort,
    advertiseHost: config.advertiseHost,
    advertisePort: config.advertisePort,
    rpcPort: config.advertiseRpcPort || rpc.port,
    join: config.join,
    retryJoin: config.retryJoin,
    retryIntervalMs: config.retryIntervalMs,
    retryMax: config.retryMax,
    encrypt: config.encrypt,
    keyringFile: join(config.dataDir, "keyring.json"),
    profile: config.profile,
    failedServerGraceMs: config.failedServerGraceMs,
    clock,
    log: (line) => console.error(`tock: ${line}`),
  }).catch(async (e) => {
    await rpc.stop(true);
    throw e;
  });
  const rpcAddr = membership.rpcAddr;
  addresses.set(nodeId, rpcAddr);

  const http = new HttpTransport(snapshots);
  /** An id Raft talks to but the book does not know yet (a new peer): ask gossip. */
  const urlOf = (id: string): string | undefined => {
    let a = addresses.get(id);
    if (a === undefined) {
      a = membership.rpcAddrOf(id);
      if (a !== undefined) addresses.set(id, a);
    }
    return a === undefined ? undefined : `http://${a}`;
  };
  const transport = {
    send: (to: string, msgs: Parameters<HttpTransport["send"]>[1]) => {
      if (http.peerUrl(to) === undefined) urlOf(to);
      http.send(to, msgs);
    },
  };
  for (const [id, addr] of addresses.entries()) {
    if (id !== nodeId) http.setPeer(id, `http://${addr}`);
  }
  addresses.onChange((id, addr) => {
    if (id === nodeId) return;
    if (addr === undefined) http.removePeer(id);
    else http.setPeer(id, `http://${addr}`);
  });

  const snapshotStats = { taken: 0, installed: 0 };
  const state = new ReplicatedState(store, snapshots, logStore.load().snapshot?.data);
  const tickMs = tickMsOf(config.profile, config.raftMultiplier);
  const s = new RaftShell({
    id: nodeId,
    store: logStore,
    transport,
    app: state,
    clock,
    tickMs,
    electionTicks: 10,
    heartbeatTicks: 1,
    seed: (Math.floor(clock.monoMs() * 1000) ^ hashOf(nodeId)) >>> 0,
    maxCommittedPerReady: limits.applyBatchMax,
    snapshotThreshold: config.snapshotThreshold ?? limits.snapshotThresholdEntries,
    snapshotIntervalMs: config.snapshotIntervalMs ?? limits.snapshotIntervalMs,
    trailingEntries: config.trailingEntries ?? limits.raftTrailingEntries,
    onEvent: (e) => {
      if (e.type === "snapshotTaken") snapshotStats.taken++;
      if (e.type === "snapshotInstalled") {
        snapshotStats.installed++;
        console.error(`tock: installed a snapshot at index ${e.index} from the leader`);
      }
      if (e.type === "role") {
        late.door?.leaderChanged();
        membership.kick();
        late.leadership?.roleChanged(s.status().lastIndex, store.appliedIndex);
      }
    },
  });
  late.shell = s;
  const d = new Door(
    s,
    clock,
    forwarder((id) => {
      const a = addresses.get(id);
      return a === undefined ? undefined : `http://${a}`;
    }),
    currentOf(store),
  );
  late.door = d;
  store.onReloaded(() => d.reloaded((rid) => store.hasRequest(rid)));
  state.onBlocked = (rids, err) => {
    d.blocked(rids, err);
    console.error(`tock: ${err.message} (${state.blocked} entries waiting)`);
  };
  const blockedRetry = setInterval(() => state.retry(), 1_000);
  store.onAppliedBatch((items) => {
    d.applied(items);
    late.leadership?.applied(store.appliedIndex);
  });

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
    proposer: d,
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
    },
  });

  const lead = new Leadership({
    view: { isLeader: () => s.role === "leader", term: () => s.term },
    clock,
    // Scheduler writes are appended by this leader or refused, never forwarded.
    propose: (cmd, term) => d.proposeAsLeader(cmd, term),
    runner,
    exists: (job, id) => store.getExecution(job, id) !== undefined,
    makeScheduler: (ports) =>
      new Scheduler({
        clock,
        propose: ports.propose,
        getJob: (name) => store.peekJob(name),
        allJobs: () => store.jobsView(),
        running: (job) => store.runningExecutions(job),
        executionsOf: (job) => store.executionsOf(job),
        runner: ports.runner,
        metrics,
      }),
  });
  late.leadership = lead;
  store.onApplied((cmd, result) => {
    if (!result.ok) return;
    // Ends of runs too: retries, children and ephemeral deletes follow a run on any node.
    lead.scheduler?.applied(cmd);
    if (cmd.type === "job.delete") {
      afterRun.forget(cmd.name);
      // Its runs stop first (their output and process ledger rows are written to the end), then
      // the output goes; output of a same-name job created meanwhile is live and is kept.
      void runner.killJob(cmd.name).then(() => output.deleteJob(cmd.name)).catch((err) =>
        console.error(
          `tock: deleting the output of job "${cmd.name}" failed: ${errorMessage(err)}`,
        )
      );
    }
  });

  // Recovery from lost quorum: peers.json (Dkron's format, in <data-dir>/raft/ as Dkron keeps
  // it, or in the data dir itself) replaces the configuration once, then is deleted.
  for (
    const path of [join(config.dataDir, "raft", "peers.json"), join(config.dataDir, "peers.json")]
  ) {
    const peers = readPeersJson(path, { name: config.nodeName, id: nodeId });
    if (peers === undefined) continue;
    for (const p of peers) addresses.set(p.id, p.id === nodeId ? rpcAddr : p.address);
    const recovered: ClusterConfig = {
      voters: peers.filter((p) => !p.nonVoter).map((p) => p.id),
      learners: peers.filter((p) => p.nonVoter).map((p) => p.id),
    };
    s.recover(recovered);
    removePeersJson(path);
    console.error(
      `tock: recovered the Raft configuration from ${path} (${recovered.voters.length} voter(s)); the file is deleted`,
    );
  }

  // A lone server (--dev, --bootstrap-expect 1) is a one-member group from its first start.
  if (config.bootstrapExpect === 1 && !s.hasState()) {
    s.bootstrap({ voters: [nodeId], learners: [] });
  }
  s.start();
  const waiters = new AppliedWaiters(clock);
  store.onAppliedBatch(() => waiters.applied(store.appliedIndex));
  const control = new RaftControl({
    shell: s,
    addresses,
    waiters,
    appliedIndex: () => store.appliedIndex,
    isLive: (id) => membership.members().some((m) => m.tags.nodeId === id && m.status === "alive"),
  });
  membership.attachRaft(raftAttachment(s, control, addresses));

  // Executions left running by a previous process of this node cannot be running now: their
  // process groups (detached, so they outlived a SIGKILLed agent) are killed, the runs are lost.
  // Recorded in the background: in a cluster the write waits for a leader.
  const orphans = output.killOrphans();
  if (orphans > 0) console.error(`tock: killed ${orphans} process group(s) left by a previous run`);
  const markLost = async () => {
    for (const e of store.runningExecutions()) {
      if (e.node_name !== config.nodeName) continue;
      await d.propose({
        type: "execution.finish",
        execution: lostExecution(e, clock.nowMs(), "lost: the node restarted while it ran"),
      }).then(
        () => metrics.lost(e.job_name),
        (err) =>
          console.error(`tock: marking ${e.job_name}/${e.id} lost failed: ${errorMessage(err)}`),
      );
    }
  };
  const lostDone = markLost();
  // A lone server answers its first request with the restart's lost runs already recorded.
  if (config.bootstrapExpect === 1) await lostDone;

  const pruneTimer = setInterval(() => output.prune(clock.nowMs()), 60_000);

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

  /** A manual run: the leader's scheduler when this server leads, else a local run. */
  async function runJob(name: string, force = false): Promise<Execution> {
    const sched = lead.scheduler;
    if (sched !== undefined) return sched.runNow(name, force);
    const job = store.peekJob(name);
    if (!job) throw notFound(`job "${name}" not found`);
    const running = store.runningExecutions(name);
    if (running.length > 0 && !force && job.concurrency === "forbid") {
      throw new TockError(
        "conflict",
        `job "${name}" is running (execution ${
          running[0]?.id
        }) and its concurrency is forbid; use ?force=true to run anyway`,
      );
    }
    return runner.start(job, clock.nowMs(), 1);
  }

  const raftInfo = () => {
    const st = s.status();
    return {
      id: nodeId,
      name: config.nodeName,
      rpcAddr,
      role: st.role,
      term: st.term,
      leader: st.leader,
      leaderAddr: st.leader === "" ? "" : addresses.get(st.leader) ?? "",
      commit: st.commit,
      applied: store.appliedIndex,
      lastIndex: st.lastIndex,
      firstIndex: st.firstIndex,
      voters: [...st.config.voters],
      learners: [...st.config.learners],
      addresses: Object.fromEntries(addresses.entries()),
      snapshotsTaken: snapshotStats.taken,
      snapshotsInstalled: snapshotStats.installed,
      transport: { ...http.stats },
    };
  };

  /** Members from gossip with their place in Raft; addresses are RPC addresses (HTTP is not gossiped). */
  const clusterView = () => {
    const st = s.status();
    const gossipState = { alive: "alive", leaving: "alive", left: "left", failed: "dead" } as const;
    const members = membership.members().map((m) => {
      const id = m.tags.nodeId;
      const raftState = id === nodeId
        ? (st.role === "leader" ? "leader" : st.config.learners.includes(id) ? "learner" : st.role)
        : id === st.leader
        ? "leader"
        : st.config.voters.includes(id)
        ? "follower"
        : st.config.learners.includes(id)
        ? "learner"
        : "";
      return {
        name: m.name,
        addr: m.tags.rpcAddr,
        role: m.tags.server ? "server" as const : "agent" as const,
        raftState: raftState === "preCandidate" ? "candidate" : raftState,
        gossipState: gossipState[m.status],
        tags: { ...m.rawTags },
      };
    });
    const leader = membership.members().find((m) => m.tags.nodeId === st.leader)?.name ?? "";
    return {
      leader,
      term: st.term,
      commitIndex: st.commit,
      appliedIndex: store.appliedIndex,
      members,
    };
  };

  /** Readiness: a leader is known and this server has applied everything it knows committed. */
  const ready = (): { ready: boolean; reason: string } => {
    const st = s.status();
    if (st.config.voters.length === 0) {
      return { ready: false, reason: "waiting to bootstrap or to be added to a cluster" };
    }
    if (st.leader === "") return { ready: false, reason: "no leader known" };
    if (store.appliedIndex < st.commit) {
      return { ready: false, reason: `applied ${store.appliedIndex} of ${st.commit} committed` };
    }
    return { ready: true, reason: `leader ${st.leader}, applied ${store.appliedIndex}` };
  };

  const api = {
    nodeName: config.nodeName,
    version: config.version,
    tags: config.tags,
    nowMs: () => clock.nowMs(),
    propose: (cmd: Parameters<Door["propose"]>[0]) => d.propose(cmd),
    getJob: (name: string) => store.peekJob(name),
    allJobs: () => store.jobsView(),
    jobsByName: () => store.jobsByName(),
    executionsOf: (job: string) => store.executionsOf(job),
    runningExecutions: () => store.runningExecutions(),
    executionOutput: (job: string, id: string) => output.read(job, id),
    watchOutput,
    checkExecutor:
      ((name, cfg, processors) => afterRun.check(name, cfg, processors)) as ExecutorCheck,
    nextRun: nextRunOf,
    nextRuns: nextRunsOf,
    runJob,
    killExecution: (job: string, id: string) => {
      const e = store.getExecution(job, id);
      if (!e) throw notFound(`execution "${id}" of job "${job}" not found`);
      if (e.status !== "running" || !runner.kill(job, id, "killed through the API")) {
        throw invalid(`execution "${id}" of job "${job}" is ${e.status}, not running on this node`);
      }
      return runner.finished(job, id);
    },
    isLeader: () => s.role === "leader",
    /** The cluster as this server sees it (ClusterService.GetCluster, the dashboard). */
    cluster: () => clusterView(),
    activity: (sinceMs: number, recentSinceMs: number) =>
      store.activitySince(sinceMs, recentSinceMs),
    onStateChange: (listener: () => void) => {
      store.onApplied(() => listener());
      store.onReloaded(() => listener());
    },
    metricsText: () =>
      metrics.text({
        jobs: store.jobCount,
        running: runner.runningCount,
        queue: lead.scheduler?.queueSize ?? 0,
      }),
    raft: raftInfo,
    ready,
    /** Dkron's GET /v1/members array. */
    members: (): DkronMember[] => membership.membersJson(),
    /** The leader's member entry (GET /v1/leader), undefined when none is known. */
    leaderMember: (): DkronMember | undefined => {
      const id = s.leader;
      if (id === "") return undefined;
      return membership.membersJson().find((m) => m.id === id);
    },
    raftPeers: () =>
      control.configuration().servers.map((sv) => ({
        ...sv,
        name: membership.members().find((m) => m.tags.nodeId === sv.id)?.name ?? "",
        leader: sv.id === s.leader,
      })),
    /** Removes a server from Raft; on a follower the leader does it. */
    removePeer: async (id: string) => {
      if (s.role === "leader") return await localOps.removePeer(id);
      await remoteOps.removePeer(leaderOrThrow(), id);
    },
    /** Hands leadership on; on a follower the leader does it. Resolves with the new leader. */
    transferLeader: async (to?: string) => {
      if (s.role === "leader") return await localOps.transferLeader(to ?? "");
      return await remoteOps.transferLeader(leaderOrThrow(), to ?? "");
    },
    leave,
  };

  const localOps: LocalOps = {
    removePeer: async (id) => {
      if (id === nodeId) {
        throw new TockError(
          "conflict",
          "the leader cannot remove itself; transfer leadership first (tock raft transfer-leader)",
        );
      }
      if (!s.status().config.voters.includes(id) && !s.status().config.learners.includes(id)) {
        throw new TockError("not_found", `no Raft server with id ${id} (see tock raft list-peers)`);
      }
      await control.remove(id);
    },
    transferLeader: (to) => control.transferLeadership(to === "" ? undefined : to, 5_000, clock),
  };
  late.ops = localOps;
  const remoteOps = leaderOps(urlOf);
  const leaderOrThrow = (): string => {
    if (s.leader === "") throw new TockError("unavailable", "no leader is known right now");
    return s.leader;
  };

  /**
   * Hands leadership away if this server leads (SIGTERM, leave); best effort, bounded: to a live
   * voter, the next one if the first does not take it. True when this server leads no more.
   */
  async function handOff(): Promise<boolean> {
    const st = s.status();
    if (st.role !== "leader") return true;
    if (st.config.voters.filter((v) => v !== nodeId).length === 0) return false;
    // Slots already fired launch here first: fires are committed up to fireLeadMs ahead of their
    // slot, and one still in flight may commit that much later (hence twice).
    await lead.scheduler?.quiesce(2 * limits.fireLeadMs);
    for (const to of control.handOffTargets().slice(0, handOffTries)) {
      try {
        await control.transferLeadership(to, 3_000, clock);
        console.error(`tock: handed leadership to ${to} before stopping`);
        return true;
      } catch (e) {
        console.error(
          `tock: leadership transfer to ${to} before stopping failed: ${errorMessage(e)}`,
        );
      }
      if (s.role !== "leader") return true;
    }
    if (s.role !== "leader") return true;
    // Still leading: nobody else schedules until this server is gone, so it goes on scheduling.
    console.error("tock: still the leader after trying to hand leadership on; scheduling goes on");
    lead.scheduler?.resume();
    return false;
  }

  /** Graceful leave (POST /v1/leave): hand off leadership, announce "left" in gossip. */
  async function leave(): Promise<DkronMember[]> {
    await handOff();
    lead.stop();
    const peers = membership.membersJson();
    await membership.leave();
    return peers;
  }

  let stopped = false;
  return {
    nodeId,
    rpcAddr,
    rpcPort: rpc.port,
    api,
    shell: s,
    door: d,
    addresses,
    leadership: lead,
    membership,
    store,
    /** Stops scheduling and Raft, waits for running executions (then kills them), closes stores. */
    async stop(graceMs = 30_000): Promise<void> {
      if (stopped) return;
      stopped = true;
      // A leader that could not hand off keeps scheduling while its runs drain (it is still the
      // only server that may), rather than leading with no scheduler for the whole grace period.
      const keepScheduling = !(await handOff()) && s.role === "leader" &&
        s.status().config.voters.some((v) => v !== nodeId);
      if (!keepScheduling) lead.stop();
      afterRun.stop();
      clearInterval(pruneTimer);
      clearInterval(blockedRetry);
      await runner.drain(graceMs);
      lead.stop();
      d.close();
      s.stop();
      // Part of a group: announce "left" so the leader removes this server at once (as Dkron
      // does on SIGTERM); a lone server just stops.
      if (s.status().config.voters.some((v) => v !== nodeId)) await membership.leave();
      else membership.stop();
      await rpc.stop(true).catch(() => {});
      snapshots.close();
      output.close();
      store.close();
      raftDb.close();
      dirLock.release();
    },
  };
}

/** Voters tried in turn when handing leadership on at shutdown. */
const handOffTries = 2;

function hashOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
