/**
 * Membership IO glue: the node id in the data dir, the gossip shell with Dkron's tags,
 * join / retry-join, and — once Raft is attached — the bootstrap-expect watcher and the leader's
 * reconcile loop. The decisions are src/membership (pure); this file only feeds them and carries
 * out their actions, one at a time, re-checking leadership and term after every await.
 * Time comes from the clock port (monotonic time for "down for", `every` for the periodic pass).
 */
import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { type GossipConfig, makeConfig } from "../gossip/mod.ts";
import { type Clock, errorMessage, invalid } from "../lib/mod.ts";
import {
  addressUpdates,
  type BootstrapDecision,
  type ClusterMember,
  clusterMember,
  decideBootstrap,
  type DkronMember,
  dkronMember,
  encodeNodeTags,
  type MembershipAction,
  parsePeersJson,
  type PeerEntry,
  type RaftServer,
  reconcile,
  resolvePeerIds,
  type Voter,
} from "../membership/mod.ts";
import {
  attachKeyringOps,
  type GossipShell,
  Keyring,
  type KeyringOps,
  parseKey,
  readKeyringFile,
  startGossipNode,
  writeKeyringFile,
} from "../net/mod.ts";

// ---- node id ----

const nodeIdFile = "node-id";
const nodeIdRe = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The node's identity beside its name: created once (a random UUID) and kept in the data dir,
 * so a restart on a new address is the same server, and a wiped data dir is a new one.
 */
export function loadOrCreateNodeId(dataDir: string): string {
  const path = join(dataDir, nodeIdFile);
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      throw invalid(`cannot read node id file ${path}: ${errorMessage(e)}`);
    }
  }
  if (text !== undefined) {
    const id = text.trim();
    if (!nodeIdRe.test(id)) {
      throw invalid(
        `node id file ${path} is corrupt (${
          JSON.stringify(id.slice(0, 40))
        }); restore it, or delete it to make this a new server`,
      );
    }
    return id;
  }
  const id = randomUUID();
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${id}\n`);
  const fd = openSync(tmp, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return id;
}

// ---- peers.json ----

/**
 * Reads a recovery peers.json if there is one (undefined if not): parsed strictly, with this
 * node's name read as its id. A bad file is an error naming the file; nothing is half-applied.
 */
export function readPeersJson(
  path: string,
  self: { name: string; id: string },
): PeerEntry[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw invalid(`cannot read ${path}: ${errorMessage(e)}`);
  }
  const entries = resolvePeerIds(parsePeersJson(text, path), self);
  if (!entries.some((p) => p.id === self.id)) {
    throw invalid(
      `${path} does not list this server (name ${self.name}, id ${self.id}); list every surviving server, this one included`,
    );
  }
  return entries;
}

/** Deletes peers.json once its configuration is recovered (Dkron: else it would apply again). */
export function removePeersJson(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (e) {
    throw invalid(
      `recovered the configuration from ${path} but cannot delete it (${
        errorMessage(e)
      }): delete it by hand before the next start`,
    );
  }
}

// ---- addresses ----

/** Dkron's GetPrivateIP: the first private IPv4 of this host, else any external IPv4. */
export function privateIp(): string {
  const all = Object.values(networkInterfaces()).flat().filter((a) =>
    a !== undefined && a.family === "IPv4" && !a.internal
  ) as Array<{ address: string }>;
  const isPrivate = (ip: string) => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip);
  return (all.find((a) => isPrivate(a.address)) ?? all[0])?.address ?? "127.0.0.1";
}

const joinHost = (h: string) => (h.includes(":") ? `[${h}]` : h);

/** "host[:port]" → host and port (default 8946). */
function splitSeed(seed: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(seed);
  return { host: m?.[1] ?? m?.[2] ?? seed, port: m?.[3] ? Number(m[3]) : 8946 };
}

/** Resolves a hostname to its addresses (IPv4 and IPv6); a port so tests can swap DNS. */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) =>
  isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);

/** Seeds → "ip:port" gossip addresses, resolving every hostname now (never cached). */
export async function resolveSeeds(
  seeds: readonly string[],
  resolve: Resolver,
): Promise<{ addrs: string[]; errors: string[] }> {
  const addrs: string[] = [];
  const errors: string[] = [];
  for (const seed of seeds) {
    const { host, port } = splitSeed(seed);
    try {
      for (const ip of await resolve(host)) addrs.push(`${joinHost(ip)}:${port}`);
    } catch (e) {
      errors.push(`${seed}: ${errorMessage(e)}`);
    }
  }
  return { addrs: [...new Set(addrs)], errors };
}

/** Gossip timings for a --profile: Tock's lan/local/fast, and memberlist's DefaultWANConfig. */
export function gossipConfigFor(profile: "lan" | "wan" | "local" | "fast"): GossipConfig {
  if (profile !== "wan") return makeConfig(profile);
  return makeConfig("lan", {
    probeIntervalMs: 5_000,
    probeTimeoutMs: 3_000,
    suspicionMult: 6,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    pushPullIntervalMs: 60_000,
  });
}

// ---- the Raft side, as ports ----

/** What the leader knows of its Raft configuration. */
export interface RaftView {
  servers: RaftServer[];
  commitIndex: number;
}

/**
 * The Raft operations membership needs. Each change resolves once Raft took it (committed, or
 * at least appended by the leader) and rejects otherwise; membership then re-reads the view.
 */
export interface RaftOps {
  configuration(): RaftView;
  addLearner(id: string, address: string): Promise<void>;
  /** Makes a caught-up learner a voter. */
  promote(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Points this server's transport at a node id's new RPC address (local, every server). */
  updateAddress(id: string, address: string): void | Promise<void>;
}

export interface RaftAttachment {
  ops: RaftOps;
  /** Current role, term and known leader id ("" when none); read again after every await. */
  leadership(): { isLeader: boolean; term: number; leader: string };
  /** This server holds a Raft configuration (bootstrapped, added by a leader, or restored). */
  hasState(): boolean;
  /** Bootstraps a new group with these voters (self included). Called at most once at a time. */
  bootstrap(voters: Voter[]): Promise<void>;
}

export type MembershipEvent =
  | { type: "member"; kind: string; member: ClusterMember }
  | { type: "bootstrap"; decision: BootstrapDecision }
  | { type: "action"; action: MembershipAction; error?: string }
  | { type: "joined"; via: "join" | "retry-join" }
  | { type: "joinFailed"; reason: string };

export interface MembershipOptions {
  nodeName: string;
  nodeId: string;
  server: boolean;
  bootstrapExpect: number;
  region: string;
  datacenter: string;
  version: string;
  /** User tags (reserved names are set here, never taken from these). */
  tags: Record<string, string>;
  bindHost: string;
  bindPort: number;
  /** "" derives it: bindHost, or this host's private IP when binding all interfaces. */
  advertiseHost: string;
  /** 0: the bound gossip port. */
  advertisePort: number;
  /** The RPC port peers dial (advertise-rpc-port, or the bound RPC port). */
  rpcPort: number;
  join: string[];
  retryJoin: string[];
  retryIntervalMs: number;
  /** 0 = retry forever. */
  retryMax: number;
  /** Base64 gossip key, "" for none. */
  encrypt: string;
  /**
   * Where this node keeps its gossip keyring (Serf's keyring file: JSON list, primary first).
   * When the file exists it wins over `encrypt`, so keys rotated with `tock keyring` survive a
   * restart; every keyring change is saved here before the node acknowledges it.
   */
  keyringFile?: string;
  profile: "lan" | "wan" | "local" | "fast";
  failedServerGraceMs: number;
  clock: Clock;
  /** Milliseconds between reconcile passes besides the ones member events trigger. */
  reconcileIntervalMs?: number;
  /** Milliseconds one Raft change may take before the pass gives up on it (default 30 s). */
  actionTimeoutMs?: number;
  resolve?: Resolver;
  /** Gossip incarnation to start from (default: unix seconds, above any earlier run's). */
  incarnation?: number;
  /** Exact gossip timings (tests); default gossipConfigFor(profile). */
  gossipConfig?: GossipConfig;
  log?: (line: string) => void;
}

/** Default pass interval: grace expiry and learner catch-up are noticed within it. */
const reconcileIntervalMsDefault = 2_000;
/** Actions applied per pass before yielding to the next one (each is a Raft round trip). */
const actionsPerPassMax = 16;
/**
 * Milliseconds one membership change may take (Dkron's Raft apply timeout). A change that has
 * not settled by then ends the pass; the next pass re-reads the configuration, so a change that
 * did commit late is seen as done, and one that did not is proposed again.
 */
const actionTimeoutMsDefault = 30_000;

export class Membership {
  readonly nodeName: string;
  readonly nodeId: string;
  /** Advertised gossip address "host:port". */
  readonly gossipAddr: string;
  /** Advertised RPC address "host:port" (the rpc_addr tag). */
  readonly rpcAddr: string;
  readonly #o: MembershipOptions;
  readonly #shell: GossipShell;
  #keyringOps: KeyringOps | undefined;
  readonly #log: (line: string) => void;
  #raft: RaftAttachment | undefined;
  #listeners = new Set<(e: MembershipEvent) => void>();
  #stopTimers: Array<() => void> = [];
  #hasRaftTag = false;
  #downSince = new Map<string, number>();
  #lastNames = new Map<string, string>();
  #running = false;
  #again = false;
  #stopped = false;
  #bootstrapping = false;
  #bootstrappedHere = false;
  #lastBootstrap: BootstrapDecision | undefined;
  #lastNotes = "";
  #joinVia: "join" | "retry-join" | undefined;
  #stopRetry: (() => void) | undefined;

  private constructor(o: MembershipOptions, shell: GossipShell, advertiseHost: string) {
    this.#o = o;
    this.#shell = shell;
    this.#log = o.log ?? (() => {});
    this.nodeName = o.nodeName;
    this.nodeId = o.nodeId;
    this.gossipAddr = shell.core.addr;
    this.rpcAddr = `${joinHost(advertiseHost)}:${o.rpcPort}`;
  }

  /** Binds gossip (UDP+TCP) with this node's tags and starts joining; Raft comes later. */
  static async start(o: MembershipOptions): Promise<Membership> {
    const advertiseHost = o.advertiseHost !== ""
      ? o.advertiseHost
      : o.bindHost === "0.0.0.0" || o.bindHost === "::"
      ? privateIp()
      : o.bindHost;
    if (o.advertisePort !== 0 && o.advertisePort !== o.bindPort) {
      // The gossip shell advertises the port it bound; a NAT-mapped gossip port needs it to
      // advertise another one, which it cannot yet.
      throw invalid(
        `advertise-addr port ${o.advertisePort} differs from the bind-addr port ${o.bindPort}: not supported yet; advertise the bound port`,
      );
    }
    const rpcAddr = `${joinHost(advertiseHost)}:${o.rpcPort}`;
    const keyringFile = o.keyringFile;
    const keyring = keyringFile !== undefined && existsSync(keyringFile)
      ? readKeyringFile(keyringFile)
      : o.encrypt === ""
      ? undefined
      : new Keyring([parseKey(o.encrypt)]);
    const shell = await startGossipNode({
      name: o.nodeName,
      bindHost: o.bindHost,
      bindPort: o.bindPort,
      advertiseHost,
      config: o.gossipConfig ?? gossipConfigFor(o.profile),
      tags: encodeNodeTags({
        server: o.server,
        region: o.region,
        datacenter: o.datacenter,
        version: o.version,
        expect: o.bootstrapExpect,
        rpcAddr,
        nodeId: o.nodeId,
        hasRaft: false,
        user: o.tags,
      }),
      ...(keyring === undefined ? {} : { keyring }),
      clock: o.clock,
      ...(o.incarnation === undefined ? {} : { incarnation: o.incarnation }),
    });
    const m = new Membership(o, shell, advertiseHost);
    if (keyring !== undefined) {
      if (keyringFile !== undefined && !existsSync(keyringFile)) {
        writeKeyringFile(keyringFile, keyring.keys().map((k) => Buffer.from(k).toString("base64")));
      }
      m.#keyringOps = attachKeyringOps(
        shell,
        keyringFile === undefined ? {} : { persist: (keys) => writeKeyringFile(keyringFile, keys) },
      );
    }
    m.#begin();
    return m;
  }

  #begin(): void {
    this.#shell.onEvent((e) => {
      if (e.type !== "member") return;
      const member = clusterMember(e.member);
      this.#emit({ type: "member", kind: e.kind, member });
      this.#checkJoined();
      this.kick();
    });
    const interval = this.#o.reconcileIntervalMs ?? reconcileIntervalMsDefault;
    this.#stopTimers.push(this.#o.clock.every(interval, () => this.kick()));
    if (this.#o.join.length > 0) {
      this.#joinVia = "join";
      void this.#joinOnce();
    }
    if (this.#o.retryJoin.length > 0) {
      this.#joinVia = "retry-join";
      this.#retryJoin();
    }
  }

  /** Reports the first peer seen after a join, and ends retry-join. Says whether it did. */
  #checkJoined(): boolean {
    const via = this.#joinVia;
    if (via === undefined || !this.#othersAlive()) return false;
    this.#joinVia = undefined;
    this.#stopRetry?.();
    this.#stopRetry = undefined;
    this.#emit({ type: "joined", via });
    return true;
  }

  /** Subscribes to member, bootstrap, action and join events; returns the unsubscribe. */
  onEvent(fn: (e: MembershipEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: MembershipEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#log(`membership listener failed: ${errorMessage(err)}`);
      }
    }
  }

  /** Gossip members (self included), as the cluster code reads them. */
  members(): ClusterMember[] {
    return this.#shell.core.members().map(clusterMember);
  }

  /** GET /v1/members: Dkron's member JSON. */
  membersJson(): DkronMember[] {
    return this.members().map(dkronMember);
  }

  /** The advertised RPC address of a node id, from its gossip tags (for the Raft transport). */
  rpcAddrOf(nodeId: string): string | undefined {
    const m = this.members().find((x) => x.tags.nodeId === nodeId && x.tags.rpcAddr !== "");
    return m?.tags.rpcAddr;
  }

  /** The last bootstrap-expect decision (for readiness and GET /v1), if Raft is attached. */
  bootstrapStatus(): BootstrapDecision | undefined {
    return this.#lastBootstrap;
  }

  /**
   * The `serf` section of GET /v1, with Dkron's key names, for what Tock's gossip tracks
   * (Serf's query and intent queues and coordinates do not exist here, so they are absent).
   */
  serfStats(): Record<string, string> {
    const ms = this.members();
    const count = (st: string) => String(ms.filter((m) => m.status === st).length);
    const core = this.#shell.core;
    return {
      members: String(ms.length),
      failed: count("failed"),
      left: count("left"),
      encrypted: String(this.#o.encrypt !== ""),
      health_score: String(core.healthScore),
      event_time: String(core.eventClock),
      incarnation: String(core.incarnation),
    };
  }

  /** The gossip shell (stats, user events). */
  /** Cluster-wide keyring operations (`/v1/keyring`); undefined when gossip is not encrypted. */
  get keyringOps(): KeyringOps | undefined {
    return this.#keyringOps;
  }

  get gossip(): GossipShell {
    return this.#shell;
  }

  /** Starts bootstrap-expect and, on the leader, reconciling gossip into Raft. */
  attachRaft(raft: RaftAttachment): void {
    this.#raft = raft;
    this.kick();
  }

  /** Runs a pass now (coalesced with one already running). Member events and a timer call it. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again && !this.#stopped);
      } catch (e) {
        this.#log(`membership: pass failed: ${errorMessage(e)}`);
      } finally {
        this.#running = false;
      }
    })();
  }

  /** A pass is running (tests wait for it to settle). */
  get busy(): boolean {
    return this.#running;
  }

  async #pass(): Promise<void> {
    const raft = this.#raft;
    if (raft === undefined) return;
    this.#setHasRaftTag(this.#advertisesRaft(raft));
    const members = this.members();
    if (!raft.hasState()) return await this.#maybeBootstrap(raft, members);
    const start = raft.leadership();
    const still = () => {
      const now = raft.leadership();
      return !this.#stopped && now.isLeader && now.term === start.term;
    };
    this.#track(members, raft.ops.configuration().servers);
    if (!start.isLeader) {
      for (const u of addressUpdates(members, raft.ops.configuration().servers)) {
        await raft.ops.updateAddress(u.id, u.address);
      }
      return;
    }
    for (let i = 0; i < actionsPerPassMax && still(); i++) {
      const view = raft.ops.configuration();
      const servers = view.servers.map((s) => {
        const name = s.name ?? this.#lastNames.get(s.id);
        return name === undefined ? s : { ...s, name };
      });
      const now = this.#o.clock.monoMs();
      const downForMs: Record<string, number> = {};
      for (const [id, since] of this.#downSince) downForMs[id] = now - since;
      const r = reconcile({
        selfId: this.nodeId,
        region: this.#o.region,
        members: this.members(),
        servers,
        commitIndex: view.commitIndex,
        downForMs,
        failedServerGraceMs: this.#o.failedServerGraceMs,
      });
      const notes = r.notes.join("; ");
      if (notes !== this.#lastNotes) {
        this.#lastNotes = notes;
        if (notes !== "") this.#log(`membership: ${notes}`);
      }
      const action = r.actions[0];
      if (action === undefined) return;
      try {
        await this.#withTimeout(
          this.#apply(raft.ops, action),
          this.#o.actionTimeoutMs ?? actionTimeoutMsDefault,
        );
        this.#log(`membership: ${action.type} ${action.id}: ${action.reason}`);
        this.#emit({ type: "action", action });
      } catch (e) {
        // The next pass (timer or event) tries again with fresh inputs.
        this.#log(`membership: ${action.type} ${action.id} failed: ${errorMessage(e)}`);
        this.#emit({ type: "action", action, error: errorMessage(e) });
        return;
      }
    }
  }

  #withTimeout(p: Promise<void>, ms: number): Promise<void> {
    const clock = this.#o.clock;
    return new Promise<void>((resolve, reject) => {
      const t = clock.setTimer(
        clock.nowMs() + ms,
        () => reject(new Error(`no answer from Raft within ${ms} ms`)),
      );
      p.then(
        () => {
          clock.clearTimer(t);
          resolve();
        },
        (e) => {
          clock.clearTimer(t);
          reject(e);
        },
      );
    });
  }

  #apply(ops: RaftOps, a: MembershipAction): Promise<void> {
    switch (a.type) {
      case "updateAddress":
        return Promise.resolve(ops.updateAddress(a.id, a.address));
      case "remove":
        return ops.remove(a.id);
      case "addLearner":
        return ops.addLearner(a.id, a.address);
      case "promote":
        return ops.promote(a.id);
    }
  }

  /** Notes when each Raft server was first seen down, and the last name seen for each id. */
  #track(members: ClusterMember[], servers: readonly RaftServer[]): void {
    const now = this.#o.clock.monoMs();
    const up = new Set<string>();
    for (const m of members) {
      if (!m.tags.server || m.tags.nodeId === "") continue;
      this.#lastNames.set(m.tags.nodeId, m.name);
      if (m.status === "alive" || m.status === "leaving") up.add(m.tags.nodeId);
    }
    const ids = new Set(servers.map((s) => s.id));
    for (const id of ids) {
      if (up.has(id)) this.#downSince.delete(id);
      else if (!this.#downSince.has(id)) this.#downSince.set(id, now);
    }
    for (const id of this.#downSince.keys()) if (!ids.has(id)) this.#downSince.delete(id);
  }

  async #maybeBootstrap(raft: RaftAttachment, members: ClusterMember[]): Promise<void> {
    if (this.#bootstrapping) return;
    const d = decideBootstrap({
      self: {
        name: this.nodeName,
        id: this.nodeId,
        expect: this.#o.server ? this.#o.bootstrapExpect : 0,
        hasRaftState: raft.hasState(),
      },
      region: this.#o.region,
      members,
      selfRpcAddr: this.rpcAddr,
    });
    const changed = JSON.stringify(d) !== JSON.stringify(this.#lastBootstrap);
    this.#lastBootstrap = d;
    if (changed) {
      this.#emit({ type: "bootstrap", decision: d });
      if ("reason" in d) this.#log(`membership: bootstrap: ${d.reason}`);
    }
    if (d.kind !== "bootstrap") return;
    this.#bootstrapping = true;
    try {
      this.#log(`membership: bootstrapping Raft with ${d.voters.map((v) => v.name).join(", ")}`);
      await raft.bootstrap(d.voters);
      this.#bootstrappedHere = true;
    } catch (e) {
      this.#log(`membership: bootstrap failed: ${errorMessage(e)}`);
    } finally {
      this.#bootstrapping = false;
    }
  }

  /**
   * The `raft` tag tells servers still waiting for bootstrap-expect that a group exists. A server
   * that bootstrapped in this run raises it only once a leader is known: until then its peers of
   * the same bootstrap may not have bootstrapped yet, and a voter with no configuration refuses
   * votes, so they must not be told to stand down. Once a leader exists, a quorum of the initial
   * voters holds the configuration and the rest catch up by replication.
   */
  #advertisesRaft(raft: RaftAttachment): boolean {
    if (!raft.hasState()) return false;
    return !this.#bootstrappedHere || raft.leadership().leader !== "";
  }

  #setHasRaftTag(has: boolean): void {
    if (has === this.#hasRaftTag || !this.#o.server) return;
    this.#hasRaftTag = has;
    this.#shell.core.setTags(encodeNodeTags({
      server: this.#o.server,
      region: this.#o.region,
      datacenter: this.#o.datacenter,
      version: this.#o.version,
      expect: this.#o.bootstrapExpect,
      rpcAddr: this.rpcAddr,
      nodeId: this.nodeId,
      hasRaft: has,
      user: this.#o.tags,
    }));
  }

  #othersAlive(): boolean {
    return this.#shell.core.members().some((m) => m.name !== this.nodeName && m.state === "alive");
  }

  async #joinOnce(): Promise<void> {
    const resolve = this.#o.resolve ?? systemResolver;
    const { addrs, errors } = await resolveSeeds(this.#o.join, resolve);
    if (errors.length > 0) this.#log(`membership: join: cannot resolve ${errors.join("; ")}`);
    if (addrs.length === 0 || this.#stopped) return;
    this.#shell.core.join(addrs);
    this.#log(`membership: joining through ${addrs.join(", ")}`);
  }

  /** Dkron's retry-join: re-resolve and join every interval until a peer answers, or give up. */
  #retryJoin(): void {
    const resolve = this.#o.resolve ?? systemResolver;
    let attempts = 0;
    let inFlight = false;
    const attempt = async () => {
      if (inFlight || this.#stopped || this.#joinVia === undefined) return;
      if (this.#checkJoined()) return;
      if (this.#o.retryMax > 0 && attempts >= this.#o.retryMax) {
        stop();
        this.#stopRetry = undefined;
        this.#joinVia = undefined;
        const reason = `retry-join: no member answered after ${attempts} attempt(s) through ${
          this.#o.retryJoin.join(", ")
        }`;
        this.#log(`membership: ${reason}`);
        this.#emit({ type: "joinFailed", reason });
        return;
      }
      attempts++;
      inFlight = true;
      try {
        const { addrs, errors } = await resolveSeeds(this.#o.retryJoin, resolve);
        if (errors.length > 0) {
          this.#log(`membership: retry-join attempt ${attempts}: ${errors.join("; ")}`);
        }
        if (addrs.length > 0 && !this.#stopped) this.#shell.core.join(addrs);
      } finally {
        inFlight = false;
      }
    };
    const stop = this.#o.clock.every(this.#o.retryIntervalMs, () => void attempt());
    this.#stopRetry = stop;
    this.#stopTimers.push(stop);
    void attempt();
  }

  /** Leaves gossip gracefully (peers see "left"; the leader removes this server from Raft). */
  async leave(graceMs = 1_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const s of this.#stopTimers.splice(0)) s();
    await this.#shell.leave(graceMs);
  }

  /** Stops without a leave message: peers will see this node fail. */
  stop(): void {
    this.#stopped = true;
    for (const s of this.#stopTimers.splice(0)) s();
    this.#shell.stop();
  }
}
