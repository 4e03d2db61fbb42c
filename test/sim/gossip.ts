/**
 * Deterministic gossip simulator: N pure GossipCores on the shared seeded SimNet (test/sim/net.ts)
 * with loss, delay, partitions and heals, crashes, and a "slow" node whose processing pauses for
 * up to 2 s at a time. Checkers run on the recorded events:
 *  - detect:   every crashed node is declared failed by every live node within the profile bound;
 *  - falseDead: no node that is alive (merely paused/slow, never crashed) is declared failed,
 *               in scenarios without partitions (violation with Lifeguard on; counted always);
 *  - converge: after a heal, every live node sees every live node alive within the bound;
 *  - tags:     a tag change reaches every live node within the bound;
 *  - rotation: (scenario "rotation") install → use → remove of a new gossip key through keyring
 *              queries (src/net KeyringOps), each step acknowledged by every live member, every
 *              keyring ending with only the new key; packets carry the sender's primary key and
 *              a receiver without it drops them (counted), as decryption would.
 * Every run replays from its seed; the trace hash proves it (determinism self-check).
 *
 * CLI: bun run test/sim/gossip.ts --seeds N [--seed S] [--nodes 5|20] [--profile lan|local|fast]
 *        [--lifeguard on|off] [--scenario crash|pause|slow|partition|mixed|rotation] [--duration-ms D]
 *        [--loss 0.02] [--compare] [--bug ignoreRefute] [--verbose]
 * Last line: gossip-sim seeds=N violations=V false_dead=F detect_p99_ms=D
 */
import {
  encodePacket,
  type GossipConfig,
  GossipCore,
  type GossipEvent,
  makeConfig,
  type Msg,
  type ProfileName,
  type QueryEvent,
  suspicionMinMs,
} from "../../src/gossip/mod.ts";
import { Prng } from "../../src/lib/mod.ts";
import { Buffer } from "node:buffer";
import { Keyring, KeyringOps } from "../../src/net/mod.ts";
import { SimNet } from "./net.ts";

/**
 * crash: 1 node (2 at N = 20) crashes; pause: one node stops processing for up to 2 s at a time;
 * slow: one node handles every message late (a lag up to 2 s that drifts); partition: two
 * groups split for 2–30 s, then heal; mixed: crash + pause; rotation: a key rotation while one
 * node pauses (not in defaultOptions' seed rotation: pass it explicitly).
 */
export type Scenario = "crash" | "pause" | "slow" | "partition" | "mixed" | "rotation";

export interface GossipSimOptions {
  seed: number;
  nodes: number;
  profile: ProfileName;
  lifeguard: boolean;
  scenario: Scenario;
  durationMs: number;
  /** Per-message loss probability. */
  loss: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** Longest pause of the slow node (ms); capped below the suspicion minimum by the checker's rule. */
  pauseMaxMs: number;
  bug?: "ignoreRefute";
  /** rotation checker self-test: one node never answers keyring queries. */
  silentKeyringNode?: boolean;
  /** Receives a line per delivery, pause and event, for replaying a failing seed. */
  trace?: (line: string) => void;
}

export interface GossipSimResult {
  seed: number;
  scenario: Scenario;
  violations: string[];
  /** Failed events about nodes that never crashed (partition scenarios excluded). */
  falseDead: number;
  /** Crash → failed on every live node, ms, one entry per crash. */
  detectMs: number[];
  /** Tag change → seen by every live node, ms (runs without a partition only). */
  disseminateMs: number[];
  /** Encoded bytes sent by n0 per second (datagrams + push-pull streams, before encryption). */
  bytesPerNodeSec: number;
  /** rotation: ms from the start of each step (install, use, remove) to its aggregate answer. */
  rotationMs: number[];
  /** rotation: packets dropped because the receiver did not hold the sender's primary key. */
  keyRejected: number;
  traceHash: string;
}

export function defaultOptions(
  seed: number,
  overrides: Partial<GossipSimOptions> = {},
): GossipSimOptions {
  const scenarios: Scenario[] = ["crash", "pause", "partition", "mixed", "slow"];
  return {
    seed,
    nodes: seed % 4 === 3 ? 20 : 5,
    profile: "lan",
    lifeguard: true,
    scenario: scenarios[seed % scenarios.length] as Scenario,
    durationMs: 90_000,
    loss: 0.01 + (seed % 3) * 0.005,
    delayMinMs: 1,
    delayMaxMs: 20,
    pauseMaxMs: 2000,
    ...overrides,
  };
}

interface Packet {
  msgs: Msg[];
  stream: boolean;
  /** rotation: the sender's primary key (what it would have encrypted with). */
  key?: Uint8Array;
}

interface SimNode {
  name: string;
  core: GossipCore;
  crashedAt: number | undefined;
  pausedUntil: number;
  inbox: Array<{ from: string; msgs: Msg[] }>;
  /** Messages waiting out the slow node's processing lag, FIFO. */
  lagged: Array<{ at: number; from: string; msgs: Msg[] }>;
  missedTicks: number;
  /** rotation only: the node's keyring, its keyring operations and their query listeners. */
  keyring?: Keyring;
  ops?: KeyringOps;
  queryListeners: Array<(e: QueryEvent) => void>;
}

/** FNV-1a over strings, for the determinism self-check. */
class Hash {
  h = 0x811c9dc5;
  add(s: string): void {
    for (let i = 0; i < s.length; i++) {
      this.h ^= s.charCodeAt(i);
      this.h = Math.imul(this.h, 0x01000193) >>> 0;
    }
  }
  hex(): string {
    return this.h.toString(16).padStart(8, "0");
  }
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}
export { percentile };

/** Bound for "crash → failed everywhere": probe pass + Lifeguard's max suspicion + slack. */
export function detectBoundMs(c: GossipConfig, n: number): number {
  const min = suspicionMinMs(c.suspicionMult, n, c.probeIntervalMs);
  const max = c.lifeguard ? min * c.suspicionMaxTimeoutMult : min;
  return max + 2 * c.probeIntervalMs * Math.min(n, 8) + 2000;
}

export function runGossipSim(o: GossipSimOptions): GossipSimResult {
  const prng = new Prng(o.seed * 7919 + 17);
  const config = makeConfig(o.profile, { lifeguard: o.lifeguard });
  const tickMs = config.tickMs;
  const net = new SimNet<Packet>(new Prng(o.seed * 104729 + 3), {
    dropRate: o.loss,
    duplicateRate: 0.002,
    delayMin: o.delayMinMs,
    delayMax: o.delayMaxMs,
  });
  const names = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
  const nodes = new Map<string, SimNode>();
  for (const name of names) {
    const core = new GossipCore({
      name,
      addr: name,
      config,
      prng: new Prng(prng.nextU32()),
      tags: { role: "worker", gen: "0" },
      incarnation: 1,
      ...(o.bug === undefined ? {} : { bug: o.bug }),
    });
    nodes.set(name, {
      name,
      core,
      crashedAt: undefined,
      pausedUntil: 0,
      inbox: [],
      lagged: [],
      missedTicks: 0,
      queryListeners: [],
    });
    if (name !== "n0") core.join(["n0"]);
  }
  const violations: string[] = [];
  const hash = new Hash();
  let falseDead = 0;
  const detectMs: number[] = [];
  const disseminateMs: number[] = [];
  let bytesN0 = 0;

  // ---- fault plan, drawn from the seed
  const warmupMs = 10_000;
  const suspMin = suspicionMinMs(config.suspicionMult, o.nodes, config.probeIntervalMs);
  // Pauses stay below the suspicion minimum (the rule under test), and at most 2 s.
  const pauseMax = Math.min(o.pauseMaxMs, suspMin - 4 * tickMs);
  const doCrash = o.scenario === "crash" || o.scenario === "mixed";
  const doRotate = o.scenario === "rotation";
  const doPause = o.scenario === "pause" || o.scenario === "mixed" || doRotate;
  const doLag = o.scenario === "slow";
  const doPartition = o.scenario === "partition";
  const slow = doPause || doLag ? names[prng.int(0, names.length)] : undefined;
  let lagMs = 0;
  let nextLagChange = warmupMs;
  const crashCount = doCrash ? (o.nodes >= 20 ? 2 : 1) : 0;
  const crashes: Array<{ name: string; at: number }> = [];
  const candidates = names.filter((n) => n !== slow);
  prng.shuffle(candidates);
  for (let i = 0; i < crashCount; i++) {
    crashes.push({
      name: candidates[i] as string,
      at: warmupMs + prng.int(0, 20_000 / tickMs) * tickMs,
    });
  }
  let partition: { at: number; healAt: number; groups: string[][] } | undefined;
  if (doPartition) {
    const shuffled = prng.shuffle([...names]);
    const cut = prng.int(1, names.length);
    const at = warmupMs + prng.int(0, 10_000 / tickMs) * tickMs;
    partition = {
      at,
      healAt: at + prng.int(2_000 / tickMs, 30_000 / tickMs) * tickMs,
      groups: [shuffled.slice(0, cut), shuffled.slice(cut)],
    };
  }
  const tagChangeAt = warmupMs + prng.int(0, 30_000 / tickMs) * tickMs;
  const tagNode = candidates[crashCount] ?? names[0] as string;
  let tagPending: { at: number; seen: Set<string> } | undefined;
  const convergeBound = config.reconnectIntervalMs + 2 * suspMin * config.suspicionMaxTimeoutMult +
    10_000;
  let convergedAt: number | undefined;
  const detectBound = detectBoundMs(config, o.nodes);
  const failedSeen = new Map<string, Map<string, number>>(); // target -> observer -> time
  let nextPause = warmupMs;

  // ---- key rotation (scenario "rotation"): keys drawn from the seed, ops on every node
  const rotationMs: number[] = [];
  let keyRejected = 0;
  const drawKey = () => {
    const k = new Uint8Array(32);
    for (let i = 0; i < 32; i += 4) new DataView(k.buffer).setUint32(i, prng.nextU32());
    return k;
  };
  const k1 = drawKey();
  const k2 = drawKey();
  const b64 = (k: Uint8Array) => Buffer.from(k).toString("base64");
  let rotationDone = false;
  if (doRotate) {
    for (const n of nodes.values()) {
      const keyring = new Keyring([k1]);
      n.keyring = keyring;
      const silent = o.silentKeyringNode === true && n.name === names.at(-1);
      n.ops = new KeyringOps({
        core: n.core,
        keyring,
        onQuery: (fn) => {
          if (!silent) n.queryListeners.push(fn);
          return () => {};
        },
      });
    }
  }
  const rotateFrom = names[1] ?? "n0";
  const steps: Array<["install" | "use" | "remove", Uint8Array]> = [
    ["install", k2],
    ["use", k2],
    ["remove", k1],
  ];
  const startStep = (i: number, now: () => number) => {
    const step = steps[i];
    if (step === undefined) {
      rotationDone = true;
      return;
    }
    const [op, key] = step;
    const origin = nodes.get(rotateFrom) as SimNode;
    const at = now();
    o.trace?.(`t=${at} rotation ${op} from ${rotateFrom}`);
    origin.ops?.run(op, b64(key), (r) => {
      const t = now();
      rotationMs.push(t - at);
      hash.add(`rotation ${op} ${r.acks}/${r.members}`);
      const live = [...nodes.values()].filter((n) => n.crashedAt === undefined).length;
      if (r.acks !== live || Object.keys(r.errors).length > 0 || r.missing.length > 0) {
        violations.push(
          `t=${t} rotation ${op} acknowledged by ${r.acks} of ${live} live members (errors ${
            JSON.stringify(r.errors)
          }, missing ${r.missing.join(",")})`,
        );
      }
      startStep(i + 1, now);
    }, (e) => {
      violations.push(`t=${now()} rotation ${op} refused: ${e.message}`);
    });
  };
  let simNow = 0;

  const handleEvents = (obs: string, events: GossipEvent[], now: number) => {
    for (const e of events) {
      if (e.type !== "member") continue;
      hash.add(`${now}:${obs}:${e.kind}:${e.member.name}:${e.member.incarnation}`);
      o.trace?.(`t=${now} EVENT ${obs}: ${e.kind} ${e.member.name} inc=${e.member.incarnation}`);
      const target = e.member.name;
      if (e.kind === "failed") {
        let m = failedSeen.get(target);
        if (m === undefined) failedSeen.set(target, m = new Map());
        if (!m.has(obs)) m.set(obs, now);
        const crashed = nodes.get(target)?.crashedAt !== undefined;
        if (!crashed && partition === undefined) {
          falseDead++;
          if (o.lifeguard) {
            violations.push(
              `t=${now} ${obs} declared live node ${target} failed (inc=${e.member.incarnation}; pauses < ${pauseMax} ms)`,
            );
          }
        }
      }
      if (
        tagPending !== undefined && target === tagNode &&
        (e.kind === "update" || e.kind === "join") && e.member.tags["gen"] === "1"
      ) {
        tagPending.seen.add(obs);
      }
    }
  };

  const flush = (n: SimNode, now: number) => {
    const out = n.core.takeOutput();
    handleEvents(n.name, out.events, now);
    for (const q of out.queries) for (const fn of n.queryListeners) fn(q);
    // The primary after this turn's keyring changes is what the shell would encrypt with.
    const key = n.keyring?.keys()[0];
    const tag = key === undefined ? {} : { key };
    for (const p of out.packets) {
      hash.add(`${n.name}>${p.to}:${p.msgs.length}`);
      net.send(n.name, p.to, { msgs: p.msgs, stream: false, ...tag }, now);
    }
    for (const s of out.streams) {
      net.send(n.name, s.to, { msgs: [s.msg], stream: true, ...tag }, now);
    }
    // Encode one node's traffic for the bytes/s figure (the others skip the codec for speed).
    if (n.name === "n0") {
      for (const p of out.packets) bytesN0 += encodePacket(p.msgs).length;
      for (const st of out.streams) bytesN0 += encodePacket([st.msg]).length;
    }
  };

  for (let now = tickMs; now <= o.durationMs; now += tickMs) {
    simNow = now;
    if (doRotate && now === warmupMs) startStep(0, () => simNow);
    // -- faults
    for (const c of crashes) {
      const n = nodes.get(c.name) as SimNode;
      if (c.at === now) {
        n.crashedAt = now;
        n.core.takeOutput();
        net.dropFor(c.name);
        hash.add(`crash ${c.name}`);
      }
    }
    if (partition !== undefined && now === partition.at) net.partition(partition.groups);
    if (partition !== undefined && now === partition.healAt) net.heal();
    if (slow !== undefined && doLag && now >= nextLagChange) {
      lagMs = prng.int(0, Math.floor(pauseMax / tickMs) + 1) * tickMs;
      nextLagChange = now + prng.int(100, 1000) * tickMs;
      o.trace?.(`t=${now} lag ${slow} ${lagMs} ms`);
    }
    if (slow !== undefined && doPause && now >= nextPause) {
      const n = nodes.get(slow) as SimNode;
      const len = prng.int(1, Math.max(2, Math.floor(pauseMax / tickMs))) * tickMs;
      n.pausedUntil = now + len;
      o.trace?.(`t=${now} pause ${slow} for ${len} ms`);
      nextPause = now + len + prng.int(100, 500) * tickMs;
    }
    if (now === tagChangeAt) {
      const n = nodes.get(tagNode) as SimNode;
      if (n.crashedAt === undefined) {
        n.core.setTags({ role: "worker", gen: "1" });
        tagPending = { at: now, seen: new Set() };
      }
    }
    // -- deliveries
    for (const m of net.deliverDue(now)) {
      const dst = nodes.get(m.to);
      if (dst === undefined || dst.crashedAt !== undefined) continue;
      if (m.msg.key !== undefined && dst.keyring !== undefined && !dst.keyring.has(m.msg.key)) {
        keyRejected++;
        o.trace?.(`t=${now} ${m.from}->${m.to}: rejected (no key)`);
        continue;
      }
      o.trace?.(
        `t=${now} ${m.from}->${m.to}${m.msg.stream ? " tcp" : ""}: ${
          m.msg.msgs.map((x) => JSON.stringify(x)).join(" ")
        }`,
      );
      if (dst.name === slow && doLag && lagMs > 0) {
        const last = dst.lagged.at(-1)?.at ?? 0;
        dst.lagged.push({ at: Math.max(last, now + lagMs), from: m.from, msgs: m.msg.msgs });
      } else if (now < dst.pausedUntil) dst.inbox.push({ from: m.from, msgs: m.msg.msgs });
      else dst.core.step(m.from, m.msg.msgs);
    }
    for (const n of nodes.values()) {
      while (n.lagged.length > 0 && (n.lagged[0]?.at ?? 0) <= now && n.crashedAt === undefined) {
        const m = n.lagged.shift() as { from: string; msgs: Msg[] };
        n.core.step(m.from, m.msgs);
      }
    }
    // -- ticks (a resumed node first catches up its missed ticks, then reads its inbox)
    for (const n of nodes.values()) {
      if (n.crashedAt !== undefined) continue;
      if (now < n.pausedUntil) {
        n.missedTicks++;
        continue;
      }
      for (; n.missedTicks > 0; n.missedTicks--) n.core.tick();
      n.core.tick();
      if (n.inbox.length > 0) {
        for (const m of n.inbox) n.core.step(m.from, m.msgs);
        n.inbox = [];
      }
      flush(n, now);
    }
    // -- online checks
    const live = [...nodes.values()].filter((n) => n.crashedAt === undefined);
    if (tagPending !== undefined) {
      const all = live.every((n) => n.name === tagNode || tagPending?.seen.has(n.name));
      if (all) {
        // A tag change made during a partition waits for the heal: not a dissemination figure.
        if (partition === undefined) disseminateMs.push(now - tagPending.at);
        tagPending = undefined;
      } else if (
        now - tagPending.at > Math.max(convergeBound, 2 * config.pushPullIntervalMs) &&
        partition === undefined
      ) {
        violations.push(
          `tag change of ${tagNode} at t=${tagPending.at} not seen by all live nodes after ${
            now - tagPending.at
          } ms`,
        );
        tagPending = undefined;
      }
    }
    if (
      partition !== undefined && now > partition.healAt && convergedAt === undefined &&
      now % 100 === 0
    ) {
      const ok = live.every((a) => live.every((b) => a.core.member(b.name)?.state === "alive"));
      if (ok) convergedAt = now;
      else if (now - partition.healAt > convergeBound) {
        violations.push(`no convergence ${convergeBound} ms after heal at t=${partition.healAt}`);
        convergedAt = now;
      }
    }
  }

  // -- crash detection checker
  for (const c of crashes) {
    const seen = failedSeen.get(c.name) ?? new Map<string, number>();
    const observers = [...nodes.values()].filter((n) =>
      n.crashedAt === undefined || n.crashedAt > c.at + detectBound
    );
    let worst = 0;
    let missing = 0;
    for (const obs of observers) {
      const t = seen.get(obs.name);
      if (t === undefined || t < c.at) missing++;
      else worst = Math.max(worst, t - c.at);
    }
    if (c.at + detectBound > o.durationMs) continue;
    if (missing > 0) {
      violations.push(`crash of ${c.name} at t=${c.at} not detected by ${missing} live node(s)`);
    } else if (worst > detectBound) {
      violations.push(`crash of ${c.name} detected in ${worst} ms > bound ${detectBound} ms`);
    }
    if (missing === 0) detectMs.push(worst);
  }
  if (doRotate) {
    if (!rotationDone) violations.push(`rotation did not finish: ${rotationMs.length} of 3 steps`);
    for (const n of nodes.values()) {
      const keys = n.keyring?.keys().map(b64) ?? [];
      if (n.crashedAt === undefined && (keys.length !== 1 || keys[0] !== b64(k2))) {
        violations.push(`${n.name} ends with ${keys.length} keys, not only the new one`);
      }
    }
  }
  const seconds = o.durationMs / 1000;
  return {
    seed: o.seed,
    scenario: o.scenario,
    violations,
    falseDead,
    detectMs,
    disseminateMs,
    bytesPerNodeSec: Math.round(bytesN0 / seconds),
    rotationMs,
    keyRejected,
    traceHash: hash.hex(),
  };
}

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) m.set(a.slice(2), "true");
    else {
      m.set(a.slice(2), next);
      i++;
    }
  }
  return m;
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2));
  const seeds = Number(args.get("seeds") ?? 1);
  const first = Number(args.get("seed") ?? 1);
  const verbose = args.has("verbose");
  const overrides: Partial<GossipSimOptions> = {};
  if (args.has("nodes")) overrides.nodes = Number(args.get("nodes"));
  if (args.has("profile")) overrides.profile = args.get("profile") as ProfileName;
  if (args.has("scenario")) overrides.scenario = args.get("scenario") as Scenario;
  if (args.has("duration-ms")) overrides.durationMs = Number(args.get("duration-ms"));
  if (args.has("loss")) overrides.loss = Number(args.get("loss"));
  if (args.get("lifeguard") === "off") overrides.lifeguard = false;
  if (args.get("bug") === "ignoreRefute") overrides.bug = "ignoreRefute";
  let violations = 0;
  let falseDead = 0;
  let falseDeadOff = 0;
  const detect: number[] = [];
  const dissem: number[] = [];
  for (let s = first; s < first + seeds; s++) {
    const r = runGossipSim(defaultOptions(s, overrides));
    violations += r.violations.length;
    falseDead += r.falseDead;
    detect.push(...r.detectMs);
    dissem.push(...r.disseminateMs);
    if (args.has("compare")) {
      falseDeadOff += runGossipSim(defaultOptions(s, { ...overrides, lifeguard: false })).falseDead;
    }
    if (verbose || r.violations.length > 0) {
      console.log(
        `seed=${s} scenario=${r.scenario} violations=${r.violations.length} false_dead=${r.falseDead} detect_ms=${
          r.detectMs.join(",")
        } dissem_ms=${r.disseminateMs.join(",")}${
          r.rotationMs.length > 0
            ? ` rotation_ms=${r.rotationMs.join(",")} key_rejected=${r.keyRejected}`
            : ""
        } hash=${r.traceHash}`,
      );
      for (const v of r.violations.slice(0, 5)) console.log(`  ${v}`);
    }
  }
  if (args.has("compare")) {
    const ratio = falseDead === 0 ? `${falseDeadOff}/0` : (falseDeadOff / falseDead).toFixed(1);
    console.log(
      `lifeguard-compare false_dead_on=${falseDead} false_dead_off=${falseDeadOff} ratio_off_on=${ratio}`,
    );
  }
  console.log(
    `dissemination p50_ms=${percentile(dissem, 50)} p99_ms=${
      percentile(dissem, 99)
    } detect p50_ms=${percentile(detect, 50)}`,
  );
  console.log(
    `gossip-sim seeds=${seeds} violations=${violations} false_dead=${falseDead} detect_p99_ms=${
      percentile(detect, 99)
    }`,
  );
  if (violations > 0) process.exit(1);
}
