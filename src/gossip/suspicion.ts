/**
 * Lifeguard suspicion timer (memberlist suspicion.go): the timeout starts at `max` and falls
 * logarithmically toward `min` as independent confirmations arrive, measured from the start.
 */

export interface Suspicion {
  startMs: number;
  /** Confirmations needed to reach `min`. */
  k: number;
  minMs: number;
  maxMs: number;
  /** Names that suspected the node; the first accuser does not count as a confirmation. */
  confirmers: Set<string>;
  confirmations: number;
  deadlineMs: number;
  incarnation: number;
  /** Who raised the suspicion first (reported in the dead message's origin). */
  from: string;
}

/** memberlist suspicionTimeout: the minimum suspicion time in ms for a cluster of n members. */
export function suspicionMinMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // Whole milliseconds so scripts and ticks stay exact.
  return Math.floor(suspicionMult * nodeScale * probeIntervalMs);
}

/** Remaining timeout after `n` confirmations, floored at min (memberlist remainingSuspicionTime). */
export function suspicionTimeoutMs(n: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  return Math.max(minMs, Math.floor(raw));
}

export function newSuspicion(
  from: string,
  incarnation: number,
  k: number,
  minMs: number,
  maxMs: number,
  nowMs: number,
): Suspicion {
  const timeout = k < 1 ? minMs : maxMs;
  return {
    startMs: nowMs,
    k,
    minMs,
    maxMs,
    confirmers: new Set([from]),
    confirmations: 0,
    deadlineMs: nowMs + timeout,
    incarnation,
    from,
  };
}

/** Records a confirmation from `from`; true when it was new (and so should be re-gossiped). */
export function confirmSuspicion(s: Suspicion, from: string): boolean {
  if (s.confirmations >= s.k || s.confirmers.has(from)) return false;
  s.confirmers.add(from);
  s.confirmations++;
  s.deadlineMs = s.startMs + suspicionTimeoutMs(s.confirmations, s.k, s.minMs, s.maxMs);
  return true;
}
