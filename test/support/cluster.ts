/**
 * A cluster of `tock agent --server` processes on 127.0.0.1 with ports chosen at run time
 * (HTTP, RPC and gossip all port 0), for process tests and benches. Servers after the first join
 * through the first one's gossip address (read from its start line). Kill only what we started.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type AgentProcess, startAgent, until } from "./proc.ts";

export interface Server {
  name: string;
  dir: string;
  proc: AgentProcess;
  url: string;
  gossip: string;
  id: string;
}

export interface ClusterOptions {
  /** Executable prefix (default: bun src/main.ts); the compiled binary for binary tests. */
  command?: string[];
  env?: Record<string, string>;
  profile?: string;
}

export class ProcCluster {
  readonly servers = new Map<string, Server>();
  readonly root: string;
  readonly #o: ClusterOptions;

  constructor(root: string, o: ClusterOptions = {}) {
    this.root = root;
    this.#o = o;
  }

  /** Starts (or restarts, same data dir) server `name`; `join` defaults to any live server. */
  async start(
    name: string,
    extra: string[] = [],
    join: string | undefined = undefined,
  ): Promise<Server> {
    const dir = joinPath(this.root, name);
    mkdirSync(dir, { recursive: true });
    const seed = join ??
      [...this.servers.values()].find((s) =>
        s.proc.proc.exitCode === null && s.proc.proc.signalCode === null
      )?.gossip;
    const args = [
      "--server",
      "--node-name",
      name,
      "--data-dir",
      dir,
      "--http-addr",
      "127.0.0.1:0",
      "--bind-addr",
      "127.0.0.1:0",
      "--rpc-port",
      "0",
      "--profile",
      this.#o.profile ?? "fast",
      ...(seed === undefined ? [] : ["--join", seed]),
      ...extra,
    ];
    const proc = await startAgent(args, {
      ...(this.#o.command === undefined ? {} : { command: this.#o.command }),
      env: { ...process.env, ...this.#o.env } as Record<string, string>,
      timeoutMs: 30_000,
    });
    const m = /node id (\S+), rpc on (\S+), gossip on (\S+)/.exec(proc.output());
    if (!m) throw new Error(`no node id line from ${name}:\n${proc.output()}`);
    const s: Server = {
      name,
      dir,
      proc,
      url: proc.url,
      id: m[1] as string,
      gossip: m[3] as string,
    };
    this.servers.set(name, s);
    return s;
  }

  alive(): Server[] {
    return [...this.servers.values()].filter((s) =>
      s.proc.proc.exitCode === null && s.proc.proc.signalCode === null
    );
  }

  get(name: string): Server {
    const s = this.servers.get(name);
    if (!s) throw new Error(`no server ${name}`);
    return s;
  }

  async kill(name: string): Promise<void> {
    const s = this.get(name);
    s.proc.proc.kill("SIGKILL");
    await s.proc.exited;
  }

  async stopAll(): Promise<void> {
    for (const s of this.alive()) s.proc.proc.kill("SIGKILL");
    await Promise.all([...this.servers.values()].map((s) => s.proc.exited));
  }

  /** GET /v1 of one server (its raft section). */
  async status(s: Server): Promise<RaftStatus> {
    const r = await fetch(`${s.url}/v1`, { signal: AbortSignal.timeout(2_000) });
    return ((await r.json()) as { raft: RaftStatus }).raft;
  }

  /** Waits until every live server names the same leader, which is live and says it leads. */
  async waitLeader(timeoutMs = 20_000): Promise<Server> {
    let seen = "";
    return await until(
      `one leader on ${this.alive().map((s) => s.name).join(", ")} (saw ${seen})`,
      async () => {
        const sts = await Promise.all(
          this.alive().map(async (s) => ({ s, st: await this.status(s) })),
        );
        seen = sts.map(({ s, st }) => `${s.name}:${st.role}/${st.term}/${st.leader.slice(0, 8)}`)
          .join(" ");
        const leaders = sts.filter(({ st }) => st.role === "leader");
        if (leaders.length !== 1) return undefined;
        const l = leaders[0]!;
        return sts.every(({ st }) => st.leader === l.st.id) ? l.s : undefined;
      },
      timeoutMs,
    );
  }
}

export interface RaftStatus {
  id: string;
  name: string;
  role: string;
  term: number;
  leader: string;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  voters: string[];
  learners: string[];
  snapshotsTaken: number;
  snapshotsInstalled: number;
}

function joinPath(a: string, b: string): string {
  return join(a, b);
}
