/**
 * Named configuration profiles and their validation. Times are milliseconds; the core advances
 * its clock by `tickMs` per tick(), so every time below must be a multiple of tickMs.
 */
import { invalid, limits } from "../lib/mod.ts";

export type ProfileName = "lan" | "local" | "fast";

export interface GossipConfig {
  profile: ProfileName;
  /** Milliseconds per tick(). Default 10: fine enough for every timeout below. */
  tickMs: number;
  /** Milliseconds between probes (scaled by Lifeguard awareness up to awarenessMaxMultiplier). */
  probeIntervalMs: number;
  /** Milliseconds to wait for a direct ack before asking indirect probers. Never scaled. */
  probeTimeoutMs: number;
  /** Members asked to probe indirectly (SWIM's k). */
  indirectChecks: number;
  /** Suspicion minimum = suspicionMult × max(1, log10(N)) × probeInterval. */
  suspicionMult: number;
  /** Suspicion maximum = suspicionMaxTimeoutMult × minimum (Lifeguard). */
  suspicionMaxTimeoutMult: number;
  /** Milliseconds between gossip rounds to gossipNodes random members. */
  gossipIntervalMs: number;
  gossipNodes: number;
  /** Retransmit limit = retransmitMult × ceil(log10(N + 1)). */
  retransmitMult: number;
  /** Milliseconds between periodic push-pull full-state exchanges (0 disables). */
  pushPullIntervalMs: number;
  /** Milliseconds after death during which we still gossip to a dead node so it can refute. */
  gossipToTheDeadMs: number;
  /** Lifeguard local health: probe interval multiplied by up to this factor. */
  awarenessMaxMultiplier: number;
  /** Milliseconds a failed member is kept before it is reaped (Serf ReconnectTimeout). */
  reapFailedMs: number;
  /** Milliseconds a left member is kept before it is reaped (Serf TombstoneTimeout). */
  reapLeftMs: number;
  /**
   * Milliseconds between push-pulls to one random failed member (Serf ReconnectInterval), so
   * two sides of a healed partition find each other again. 0 disables.
   */
  reconnectIntervalMs: number;
  /** Milliseconds between join retries while no seed has answered. */
  joinRetryMs: number;
  /** Lifeguard on (default): awareness, nacks, suspicion confirmations, buddy system. */
  lifeguard: boolean;
  /** Bytes of one encoded packet before encryption and label (the shell reserves its share). */
  packetBytesMax: number;
}

const common = {
  tickMs: 10,
  awarenessMaxMultiplier: 8,
  lifeguard: true,
  packetBytesMax: limits.gossipPacketBytesMax - limits.gossipPacketOverheadBytes,
} as const;

/** memberlist's DefaultLANConfig (Serf and Dkron default). */
export const lanProfile: GossipConfig = {
  ...common,
  profile: "lan",
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  retransmitMult: 4,
  pushPullIntervalMs: 30_000,
  gossipToTheDeadMs: 30_000,
  reapFailedMs: 24 * 3600_000,
  reapLeftMs: 24 * 3600_000,
  reconnectIntervalMs: 30_000,
  joinRetryMs: 1000,
};

/** memberlist's DefaultLocalConfig (loopback). */
export const localProfile: GossipConfig = {
  ...common,
  profile: "local",
  probeIntervalMs: 1000,
  probeTimeoutMs: 200,
  indirectChecks: 1,
  suspicionMult: 3,
  suspicionMaxTimeoutMult: 6,
  gossipIntervalMs: 100,
  gossipNodes: 3,
  retransmitMult: 2,
  pushPullIntervalMs: 15_000,
  gossipToTheDeadMs: 15_000,
  reapFailedMs: 3600_000,
  reapLeftMs: 3600_000,
  reconnectIntervalMs: 10_000,
  joinRetryMs: 500,
};

/** Tock's fast profile (T9 "fast": probe 500 ms, timeout 200 ms, SuspicionMult 3). */
export const fastProfile: GossipConfig = {
  ...common,
  profile: "fast",
  probeIntervalMs: 500,
  probeTimeoutMs: 200,
  indirectChecks: 3,
  suspicionMult: 3,
  suspicionMaxTimeoutMult: 6,
  gossipIntervalMs: 100,
  gossipNodes: 3,
  retransmitMult: 4,
  pushPullIntervalMs: 15_000,
  gossipToTheDeadMs: 15_000,
  reapFailedMs: 600_000,
  reapLeftMs: 600_000,
  reconnectIntervalMs: 5_000,
  joinRetryMs: 250,
};

export const profiles: Readonly<Record<ProfileName, GossipConfig>> = {
  lan: lanProfile,
  local: localProfile,
  fast: fastProfile,
};

/** The profile's config with overrides applied, validated. Throws TockError("invalid"). */
export function makeConfig(
  profile: ProfileName,
  overrides: Partial<GossipConfig> = {},
): GossipConfig {
  const base = profiles[profile];
  if (base === undefined) throw invalid(`unknown gossip profile "${String(profile)}"`);
  const config: GossipConfig = { ...base, ...overrides, profile };
  validateConfig(config);
  return config;
}

/** Checks a config; throws a TockError naming the field and the value. */
export function validateConfig(c: GossipConfig): void {
  const ms: Array<keyof GossipConfig> = [
    "probeIntervalMs",
    "probeTimeoutMs",
    "gossipIntervalMs",
    "gossipToTheDeadMs",
    "reapFailedMs",
    "reapLeftMs",
    "joinRetryMs",
  ];
  if (!Number.isInteger(c.tickMs) || c.tickMs < 1 || c.tickMs > 1000) {
    throw invalid(`gossip tickMs ${c.tickMs} must be an integer in [1, 1000]`);
  }
  for (const k of [...ms, "pushPullIntervalMs" as const, "reconnectIntervalMs" as const]) {
    const v = c[k] as number;
    const min = k === "pushPullIntervalMs" || k === "reconnectIntervalMs" ? 0 : c.tickMs;
    if (!Number.isInteger(v) || v < min || v % c.tickMs !== 0) {
      throw invalid(
        `gossip ${k} ${v} must be an integer ≥ ${min} and a multiple of tickMs ${c.tickMs}`,
      );
    }
  }
  if (c.probeTimeoutMs >= c.probeIntervalMs) {
    throw invalid(
      `gossip probeTimeoutMs ${c.probeTimeoutMs} must be below probeIntervalMs ${c.probeIntervalMs}`,
    );
  }
  const counts: Array<[keyof GossipConfig, number, number]> = [
    ["indirectChecks", 0, 16],
    ["suspicionMult", 1, 100],
    ["suspicionMaxTimeoutMult", 1, 100],
    ["gossipNodes", 1, 64],
    ["retransmitMult", 1, 100],
    ["awarenessMaxMultiplier", 1, 64],
  ];
  for (const [k, lo, hi] of counts) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw invalid(`gossip ${k} ${v} must be an integer in [${lo}, ${hi}]`);
    }
  }
  const budgetMin = 256;
  const budgetMax = limits.gossipPacketBytesMax;
  if (
    !Number.isInteger(c.packetBytesMax) || c.packetBytesMax < budgetMin ||
    c.packetBytesMax > budgetMax
  ) {
    throw invalid(
      `gossip packetBytesMax ${c.packetBytesMax} must be in [${budgetMin}, ${budgetMax}]`,
    );
  }
}
