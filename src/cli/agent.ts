/**
 * The composition root: starts a node from an AgentConfig and serves the HTTP app built from
 * the node's ports (node/ never imports api/). Used by `tock agent` and by in-process tests.
 */
import { type ApiDeps, createApp, type Member } from "../api/mod.ts";
import { type NodeIo, type RunningNode, startNode } from "../node/mod.ts";
import type { AgentConfig } from "./config.ts";

export interface RunningAgent {
  readonly url: string;
  readonly port: number;
  readonly node: RunningNode;
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
  & { version: string };

export async function startAgent(cfg: AgentStartConfig, io: NodeIo): Promise<RunningAgent> {
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
    },
    io,
  );
  const listening: { port?: number } = {};
  const self = (): Member => ({
    Name: cfg.nodeName,
    Addr: cfg.httpHost,
    Port: listening.port ?? cfg.httpPort,
    Tags: { ...cfg.tags, server: String(cfg.server), role: "tock", version: cfg.version },
    Status: 1,
  });
  const deps: ApiDeps = {
    ...node.api,
    members: () => [self()],
    leader: () => (node.api.isLeader() ? self() : undefined),
  };
  const app = createApp(deps, { ui: cfg.ui });
  const server = io.runtime.serve({ hostname: cfg.httpHost, port: cfg.httpPort, fetch: app.fetch });
  listening.port = server.port;
  const host = cfg.httpHost.includes(":") ? `[${cfg.httpHost}]` : cfg.httpHost;
  let stopped = false;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port,
    node,
    async stop(graceMs = 30_000) {
      if (stopped) return;
      stopped = true;
      await server.stop(false).catch(() => {});
      await node.stop(graceMs);
    },
  };
}
