/**
 * Starts KV test nodes (test/fixtures/raft_kv_node.ts) as separate processes on 127.0.0.1 and
 * drives them: find the leader, put/get with leader redirects, kill -9 and restart. Shared by
 * test/raft_process_test.ts and the bench/raft_*.ts figures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { KvService } from "../src/gen/tock/v1/raft_pb.ts";

export interface Profile {
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
}
/** Heartbeat 100 ms, election 1 s randomized to [1 s, 2 s). */
export const defaultProfile: Profile = { tickMs: 100, electionTicks: 10, heartbeatTicks: 1 };
/** Heartbeat 50 ms, election 500 ms randomized to [500 ms, 1 s). */
export const fastProfile: Profile = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 };

export interface NodeEvent {
  ev: string;
  id: string;
  ms: number;
  role?: string;
  term?: number;
  leader?: string;
}

type KvClient = ReturnType<typeof createClient<typeof KvService>>;

export interface ClusterNode {
  id: string;
  port: number;
  dir: string;
  proc: ChildProcess | undefined;
  client: KvClient;
  events: NodeEvent[];
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const root = join(import.meta.dir, "..");

export class KvCluster {
  readonly nodes: ClusterNode[] = [];
  readonly profile: Profile;
  readonly #peers: string;
  readonly #voters: string;
  readonly #extra: string[];

  private constructor(nodes: ClusterNode[], profile: Profile, extra: string[]) {
    this.nodes = nodes;
    this.profile = profile;
    this.#peers = nodes.map((n) => `${n.id}=http://127.0.0.1:${n.port}`).join(",");
    this.#voters = nodes.map((n) => n.id).join(",");
    this.#extra = extra;
  }

  static async start(
    size: number,
    baseDir: string,
    profile = defaultProfile,
    extra: string[] = [],
  ): Promise<KvCluster> {
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= size; i++) {
      const port = await freePort();
      const transport = createConnectTransport({
        baseUrl: `http://127.0.0.1:${port}`,
        useBinaryFormat: true,
      });
      nodes.push({
        id: `n${i}`,
        port,
        dir: join(baseDir, `n${i}`),
        proc: undefined,
        client: createClient(KvService, transport),
        events: [],
      });
    }
    const c = new KvCluster(nodes, profile, extra);
    await Promise.all(nodes.map((n) => c.startNode(n)));
    return c;
  }

  /** Spawns a node process and resolves once it serves. */
  startNode(n: ClusterNode): Promise<void> {
    const args = [
      join(root, "test/fixtures/raft_kv_node.ts"),
      "--id",
      n.id,
      "--port",
      String(n.port),
      "--dir",
      n.dir,
      "--peers",
      this.#peers,
      "--voters",
      this.#voters,
      "--tick-ms",
      String(this.profile.tickMs),
      "--election-ticks",
      String(this.profile.electionTicks),
      "--heartbeat-ticks",
      String(this.profile.heartbeatTicks),
      ...this.#extra,
    ];
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    n.proc = proc;
    let buf = "";
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    return new Promise((resolve, reject) => {
      proc.stdout?.on("data", (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            const e = JSON.parse(line) as NodeEvent;
            n.events.push(e);
            if (e.ev === "ready") resolve();
          } catch {
            // not an event line
          }
        }
      });
      proc.once("exit", (code, sig) => {
        if (n.proc === proc) n.proc = undefined;
        reject(new Error(`${n.id} exited (${code ?? sig}) before ready: ${stderr.slice(-2000)}`));
      });
    });
  }

  /** kill -9; resolves once the process is gone. Returns the kill time (epoch ms). */
  async kill(n: ClusterNode): Promise<number> {
    const p = n.proc;
    if (p === undefined) return performance.timeOrigin + performance.now();
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    const at = performance.timeOrigin + performance.now();
    p.kill("SIGKILL");
    await exited;
    n.proc = undefined;
    return at;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n)));
  }

  live(): ClusterNode[] {
    return this.nodes.filter((n) => n.proc !== undefined);
  }

  /** Polls statuses until a majority of live nodes name the same leader that says it leads. */
  async waitLeader(deadlineMs = 20_000): Promise<ClusterNode> {
    const until = Date.now() + deadlineMs;
    let seen = "";
    while (Date.now() < until) {
      const st = await Promise.all(
        this.live().map(async (n) => {
          try {
            return await n.client.status({}, { timeoutMs: 1_000 });
          } catch {
            return undefined;
          }
        }),
      );
      const leaders = st.filter((s) => s?.role === "leader");
      seen = st.map((s) => (s ? `${s.id}:${s.role}@${s.term}` : "down")).join(" ");
      for (const l of leaders) {
        const agree = st.filter((s) => s?.leader === l?.id && s?.term === l?.term).length;
        if (l && agree >= Math.floor(this.nodes.length / 2) + 1) {
          return this.nodes.find((n) => n.id === l.id) as ClusterNode;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no leader agreed within ${deadlineMs} ms; last seen: ${seen}`);
  }

  /** Puts through the leader, following redirects; resolves when acknowledged (applied). */
  async put(key: string, value: string, deadlineMs = 15_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    let last = "";
    while (Date.now() < until) {
      const leader = await this.waitLeader(Math.max(1, until - Date.now()));
      try {
        await leader.client.put({ key, value }, { timeoutMs: 3_000 });
        return;
      } catch (e) {
        last = String(e);
        if (e instanceof ConnectError && e.code === Code.DeadlineExceeded) {
          throw new Error(`put ${key} timed out: outcome unknown`);
        }
      }
    }
    throw new Error(`put ${key} failed: ${last}`);
  }

  /** Linearizable read through any node (ReadIndex). */
  async get(key: string, deadlineMs = 15_000): Promise<string | undefined> {
    const until = Date.now() + deadlineMs;
    let last = "";
    while (Date.now() < until) {
      const leader = await this.waitLeader(Math.max(1, until - Date.now()));
      try {
        const r = await leader.client.get({ key }, { timeoutMs: 3_000 });
        return r.found ? r.value : undefined;
      } catch (e) {
        last = String(e);
      }
    }
    throw new Error(`get ${key} failed: ${last}`);
  }
}

/** p-th percentile (0..100) of values. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
