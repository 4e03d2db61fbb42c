/**
 * The composition root: starts a node from an AgentConfig and serves the HTTP app built from
 * the node's ports (node/ never imports api/). Used by `tock agent` and by in-process tests.
 */
import { type ApiDeps, createApp } from "../api/mod.ts";
import { join } from "node:path";
import { invalid } from "../lib/mod.ts";
import type { AclStore } from "../state/mod.ts";
import type { ServeTls } from "../runtime/mod.ts";
import { type NodeIo, type RunningNode, startNode } from "../node/mod.ts";
import type { AgentConfig } from "./config.ts";

export interface RunningAgent {
  readonly url: string;
  readonly port: number;
  readonly node: RunningNode;
  /** New certificates for new connections (SIGHUP); open connections keep theirs. */
  reloadTls(tls: ServeTls): Promise<void>;
  /** Resolves once the agent left the cluster (POST /v1/leave): the process should stop. */
  readonly left: Promise<void>;
  /** Stops taking requests, waits for running executions (then kills them), closes stores. */
  stop(graceMs?: number): Promise<void>;
}

/** The config fields an agent needs (AgentConfig has them all; tests pass a subset). */
export type AgentStartConfig =
  & Pick<
    AgentConfig,
    | "nodeName"
    | "dataDir"
    | "httpHost"
    | "httpPort"
    | "server"
    | "bootstrapExpect"
    | "tags"
    | "ui"
  >
  & Partial<AgentConfig>
  & {
    version: string;
    /** ACLs on: every API request but health/UI assets/bootstrap needs a token. */
    aclEnabled?: boolean;
    /** Audit retention: entries kept and their age limit (defaults: the bounds in limits.ts). */
    audit?: { maxEntries: number; maxAgeMs: number };
    /** Serve the API over HTTPS (mutual TLS with requireClientCert). */
    tls?: ServeTls;
  };

function envInt<K extends string>(
  io: NodeIo,
  name: string,
  key: K,
  min = 1,
): Partial<Record<K, number>> {
  const v = io.runtime.env(name);
  if (v === undefined || v === "") return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw invalid(`${name}=${v}: expected an integer of at least ${min}`);
  }
  return { [key]: n } as Partial<Record<K, number>>;
}

/** An ACL store that is always `current()`'s (never a copy captured once). */
export function liveAcl(current: () => AclStore): AclStore {
  return {
    bootstrapIndex: () => current().bootstrapIndex(),
    setBootstrapIndex: (n) => current().setBootstrapIndex(n),
    getToken: (accessor) => current().getToken(accessor),
    tokenByHash: (hash) => current().tokenByHash(hash),
    putToken: (t) => current().putToken(t),
    deleteToken: (accessor) => current().deleteToken(accessor),
    tokens: () => current().tokens(),
    countTokens: () => current().countTokens(),
    getPolicy: (name) => current().getPolicy(name),
    putPolicy: (p) => current().putPolicy(p),
    deletePolicy: (name) => current().deletePolicy(name),
    policies: () => current().policies(),
    countPolicies: () => current().countPolicies(),
    appendAudit: (e) => current().appendAudit(e),
    trimAudit: (keep, beforeMs) => current().trimAudit(keep, beforeMs),
    auditPage: (after, limit) => current().auditPage(after, limit),
  };
}

/** Answers while the node starts: /health is live at once, everything else 503. */
function starting(req: Request): Response {
  const live = new URL(req.url).pathname === "/health";
  return Response.json(live ? { status: "healthy" } : { error: "the node is starting" }, {
    status: live ? 200 : 503,
  });
}

export async function startAgent(cfg: AgentStartConfig, io: NodeIo): Promise<RunningAgent> {
  // HTTP first: liveness answers from the first moment, and the configured port is taken
  // before the node binds its RPC and gossip ports.
  const built: { app?: ReturnType<typeof createApp> } = {};
  const server = io.runtime.serve({
    hostname: cfg.httpHost,
    port: cfg.httpPort,
    // The connection info (remote address for the audit log) goes to the app as Hono's env.
    fetch: (req, info) => (built.app === undefined ? starting(req) : built.app.fetch(req, info)),
    ...(cfg.tls === undefined ? {} : { tls: cfg.tls }),
  });
  const node = await startNode(
    {
      nodeName: cfg.nodeName,
      dataDir: cfg.dataDir,
      server: cfg.server,
      bootstrapExpect: cfg.bootstrapExpect,
      tags: cfg.tags,
      version: cfg.version,
      rpcHost: cfg.bindHost ?? "127.0.0.1",
      rpcPort: cfg.rpcPort ?? 0,
      advertiseHost: cfg.advertiseHost ?? "",
      advertiseRpcPort: cfg.advertiseRpcPort ?? 0,
      raftMultiplier: cfg.raftMultiplier ?? 1,
      profile: cfg.profile ?? (cfg.dev ? "local" : "lan"),
      // Defaults for in-process callers that pass no cluster keys: a lone server on loopback.
      bindPort: cfg.bindPort ?? 0,
      advertisePort: cfg.advertisePort ?? 0,
      region: cfg.region ?? "global",
      datacenter: cfg.datacenter ?? "dc1",
      join: cfg.join ?? [],
      retryJoin: cfg.retryJoin ?? [],
      retryIntervalMs: cfg.retryIntervalMs ?? 30_000,
      retryMax: cfg.retryMax ?? 0,
      encrypt: cfg.encrypt ?? "",
      failedServerGraceMs: cfg.failedServerGraceMs ?? 300_000,
      // Tuning knobs (environment only): how often a snapshot is taken and how much log trails it.
      ...envInt(io, "TOCK_RAFT_SNAPSHOT_THRESHOLD", "snapshotThreshold"),
      ...envInt(io, "TOCK_RAFT_TRAILING_ENTRIES", "trailingEntries"),
      ...envInt(io, "TOCK_RAFT_SNAPSHOT_INTERVAL_MS", "snapshotIntervalMs", 0),
      ...(cfg.notify === undefined ? {} : { notify: cfg.notify }),
      ...(cfg.pluginDir === undefined ? {} : { pluginDir: cfg.pluginDir }),
    },
    io,
  ).catch(async (e) => {
    await server.stop(true).catch(() => {});
    throw e;
  });
  let leftResolve: () => void = () => {};
  const left = new Promise<void>((r) => (leftResolve = r));
  const deps: ApiDeps = {
    ...node.api,
    members: () => node.api.members(),
    leader: () => node.api.leaderMember(),
    keyring: () => node.membership.keyringOps,
    clusterOps: {
      raft: node.api.raft,
      serf: () => node.membership.serfStats(),
      ready: node.api.ready,
      peers: node.api.raftPeers,
      removePeer: node.api.removePeer,
      transferLeader: node.api.transferLeader,
      leave: async () => {
        const members = await node.api.leave();
        // Answer first, then stop: the caller gets the member list as Dkron answers it.
        setTimeout(() => leftResolve(), 100);
        return members;
      },
    },
  };
  built.app = createApp(deps, {
    ui: cfg.ui,
    acl: {
      enabled: cfg.aclEnabled ?? false,
      // Read through on every call: installing a snapshot replaces the node's ACL store.
      store: liveAcl(() => node.store.acl),
      bootstrapResetFile: join(cfg.dataDir, "acl-bootstrap-reset"),
      ...(cfg.audit === undefined
        ? {}
        : { auditKeep: cfg.audit.maxEntries, auditMaxAgeMs: cfg.audit.maxAgeMs }),
    },
  });
  const host = cfg.httpHost.includes(":") ? `[${cfg.httpHost}]` : cfg.httpHost;
  let stopped = false;
  return {
    url: `${cfg.tls === undefined ? "http" : "https"}://${host}:${server.port}`,
    port: server.port,
    node,
    left,
    reloadTls: (tls) => server.reloadTls(tls),
    async stop(graceMs = 30_000) {
      if (stopped) return;
      stopped = true;
      await server.stop(false).catch(() => {});
      await node.stop(graceMs);
    },
  };
}
